/**
 * The direct lane (api/src/http/direct-lane.ts) answers the token, introspection and revocation
 * endpoints without Express. Each request here is sent twice: to the exact path (the lane) and to
 * the same path with a trailing slash (which the lane leaves to Express, and Express serves as the
 * same route). Both must answer alike: status, body and every header but the per-response ones.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DirectLane } from '../../api/src/http/direct-lane';
import { startTestServer, TestServer } from '../support/server';
import { ASSERTION_TYPE, assertion, createAgent, getToken, TestAgent } from './helpers';

/** Headers that differ between any two responses. */
const PER_RESPONSE = new Set(['date', 'x-request-id', 'etag', 'content-length', 'connection', 'keep-alive']);

interface Answer {
  lane: boolean;
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

describe('the direct lane', () => {
  let s: TestServer;
  let agent: TestAgent;
  let reader: string;
  const served: boolean[] = [];
  let spy: jest.SpyInstance;

  beforeAll(async () => {
    s = await startTestServer({ env: { CERTUSORDO_METRICS: 'on' } });
    agent = await createAgent(s, { scopes: ['payments:read'] });
    reader = await s.createApiKey('introspector');
    const handle = DirectLane.prototype.handle;
    spy = jest.spyOn(DirectLane.prototype, 'handle').mockImplementation(function (this: DirectLane, req, res) {
      const onLane = handle.call(this, req, res);
      served.push(onLane);
      return onLane;
    });
  });
  afterAll(async () => {
    spy?.mockRestore();
    await s?.close();
  });

  /** Sends one request through `send` and reports whether the lane served it. */
  async function answer(send: () => PromiseLike<request.Response>): Promise<Answer> {
    served.length = 0;
    const res = await send();
    expect(served).toHaveLength(1);
    const headers = Object.fromEntries(Object.entries(res.headers as Record<string, string>).filter(([name]) => !PER_RESPONSE.has(name)));
    return { lane: served[0]!, status: res.status, body: res.body, headers };
  }

  type Prepare = (t: request.Test) => PromiseLike<request.Response>;

  /** The same request on the lane and, with a trailing slash, through Express; `prepare` builds each anew. */
  async function both(path: string, prepare: Prepare): Promise<[Answer, Answer]> {
    const lane = await answer(() => prepare(request(s.url).post(path)));
    const express = await answer(() => prepare(request(s.url).post(`${path}/`)));
    return [lane, express];
  }

  test('introspection: an active token, a missing credential, a body of the wrong type, a body too large', async () => {
    const token = await getToken(s, agent);
    const cases: Array<[string, Prepare, number]> = [
      ['active', (t) => t.set('Authorization', `Bearer ${reader}`).type('form').send({ token }), 200],
      ['no credential', (t) => t.type('form').send({ token }), 401],
      ['text/plain', (t) => t.set('Authorization', `Bearer ${reader}`).set('Content-Type', 'text/plain').send(`token=${token}`), 415],
      ['too large', (t) => t.set('Authorization', `Bearer ${reader}`).type('form').send(`token=${'a'.repeat(s.config.bodyLimitBytes + 1)}`), 413],
      ['repeated parameter', (t) => t.set('Authorization', `Bearer ${reader}`).type('form').send(`token=${token}&token=${token}`), 400],
    ];
    for (const [name, prepare, status] of cases) {
      const [lane, express] = await both('/v1/oauth/introspect', prepare);
      expect({ name, lane: lane.lane, express: express.lane }).toEqual({ name, lane: true, express: false });
      expect({ name, status: lane.status }).toEqual({ name, status });
      expect(lane).toEqual({ ...express, lane: true });
    }
  });

  test('the token endpoint: an issued token, an unsupported grant, an Authorization header instead of an assertion', async () => {
    const form = async () => ({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, agent, { jti: randomUUID() }) });
    const [lane, express] = await both('/v1/oauth/token', async (t) => t.type('form').send(await form()));
    expect([lane.lane, express.lane, lane.status, express.status]).toEqual([true, false, 200, 200]);
    expect(lane.headers).toEqual(express.headers);
    const issued = (a: Answer) => a.body as Record<string, unknown>;
    expect(Object.keys(issued(lane)).sort()).toEqual(Object.keys(issued(express)).sort());
    expect(issued(lane).scope).toBe('payments:read');

    for (const prepare of [
      (t: request.Test): PromiseLike<request.Response> => t.type('form').send({ grant_type: 'password', username: 'a', password: 'b' }),
      async (t: request.Test): Promise<request.Response> => t.set('Authorization', 'Basic eDp5').type('form').send(await form()),
    ]) {
      const [l, e] = await both('/v1/oauth/token', prepare);
      expect([l.lane, e.lane]).toEqual([true, false]);
      expect(l).toEqual({ ...e, lane: true });
    }
  });

  test('revocation without a credential (the token is its own proof)', async () => {
    // Revoking a token twice answers 200 both times (RFC 7009 §2.2).
    const token = await getToken(s, agent);
    const [lane, express] = await both('/v1/oauth/revoke', (t) => t.type('form').send({ token }));
    expect([lane.lane, express.lane]).toEqual([true, false]);
    expect(lane).toEqual({ ...express, lane: true });
    expect(lane.status).toBe(200);
  });

  test('a query string stays on the lane; another method or an unknown path goes to Express', async () => {
    const token = await getToken(s, agent);
    const withQuery = await answer(() => request(s.url).post('/v1/oauth/introspect?via=proxy').set('Authorization', `Bearer ${reader}`).type('form').send({ token }));
    expect([withQuery.lane, withQuery.status, (withQuery.body as { active: boolean }).active]).toEqual([true, 200, true]);
    const get = await answer(() => request(s.url).get('/v1/oauth/token'));
    expect([get.lane, get.status]).toEqual([false, 404]);
    const unknown = await answer(() => request(s.url).post('/v1/oauth/tokens').type('form').send({}));
    expect([unknown.lane, unknown.status]).toEqual([false, 404]);
  });

  test("the lane's requests are measured under their route template", async () => {
    const before = await request(s.url).get('/metrics');
    const count = (text: string) => Number(/certusordo_http_request_duration_seconds_count\{[^}]*route="\/v1\/oauth\/introspect"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    const token = await getToken(s, agent);
    for (let i = 0; i < 3; i++) await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${reader}`).type('form').send({ token }).expect(200);
    const after = await request(s.url).get('/metrics');
    expect(count(after.text) - count(before.text)).toBe(3);
  });
});
