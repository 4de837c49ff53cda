/** GET /v1/api-keys/me: any key learns its own organization and role (the console adapts to it). */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

test('each role sees its own organization and role, and nothing else', async () => {
  for (const role of ['admin', 'operator', 'reader', 'introspector'] as const) {
    const key = role === 'admin' ? s.apiKey : await s.createApiKey(role);
    const res = await request(s.url).get('/v1/api-keys/me').set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(['id', 'organization_id', 'role']);
    expect(res.body).toMatchObject({ organization_id: s.organizationId, role });
    expect(JSON.stringify(res.body)).not.toContain(key);
  }
  const other = await s.createOrganization('reader');
  const res = await request(s.url).get('/v1/api-keys/me').set('Authorization', `Bearer ${other.apiKey}`);
  expect(res.body).toMatchObject({ organization_id: other.organizationId, role: 'reader' });
});

test('without a valid key it is a 401', async () => {
  expect((await request(s.url).get('/v1/api-keys/me')).status).toBe(401);
  expect((await request(s.url).get('/v1/api-keys/me').set('Authorization', 'Bearer aa_nope')).status).toBe(401);
});
