/** Small supertest helpers: an authenticated client bound to a server URL and key. */
import request from 'supertest';

export type Client = ReturnType<typeof client>;

export function client(url: string, apiKey: string) {
  const auth = (t: request.Test) => t.set('Authorization', `Bearer ${apiKey}`);
  return {
    get: (path: string) => auth(request(url).get(path)),
    post: (path: string, body?: object) => {
      const t = auth(request(url).post(path));
      return body === undefined ? t : t.send(body);
    },
    patch: (path: string, body: object) => auth(request(url).patch(path)).send(body),
    put: (path: string, body: object = {}) => auth(request(url).put(path)).send(body),
    delete: (path: string) => auth(request(url).delete(path)),
  };
}

/** Asserts the one error shape every endpoint uses. */
export function expectError(res: request.Response, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(Array.isArray(res.body.error.details)).toBe(true);
  expect(typeof res.body.request_id).toBe('string');
}
