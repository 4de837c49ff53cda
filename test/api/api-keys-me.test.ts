/**
 * GET /v1/api-keys/me: any key learns its own organization (id and name) and role (the console
 * adapts to it). GET /v1/api-keys/names: any key turns key ids (as audit events carry them) into
 * names and roles, and learns nothing else about a key.
 */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { expectError } from '../support/http';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const get = (path: string, key: string) => request(s.url).get(path).set('Authorization', `Bearer ${key}`);

test('each role sees its own organization (id and name) and role, and nothing else', async () => {
  for (const role of ['admin', 'operator', 'reader', 'introspector'] as const) {
    const key = role === 'admin' ? s.apiKey : await s.createApiKey(role);
    const res = await get('/v1/api-keys/me', key);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(['id', 'organization_id', 'organization_name', 'role']);
    expect(res.body).toMatchObject({ organization_id: s.organizationId, organization_name: 'default', role });
    expect(JSON.stringify(res.body)).not.toContain(key);
  }
  const other = await s.createOrganization('reader');
  const res = await get('/v1/api-keys/me', other.apiKey);
  expect(res.body).toMatchObject({ organization_id: other.organizationId, role: 'reader' });
  expect(res.body.organization_name).toMatch(/^org-[0-9a-f]{6}$/);
});

test('without a valid key it is a 401 that speaks of an API key, never of an access token', async () => {
  expect((await request(s.url).get('/v1/api-keys/me')).status).toBe(401);
  for (const bearer of ['aa_nope', 'CERTUSORDO_API_KEY=aa_x', 'not-a-key']) {
    const res = await get('/v1/api-keys/me', bearer);
    expectError(res, 401, 'unauthenticated');
    expect(res.body.error.message).toMatch(/^The API key is invalid or revoked/);
    expect(res.body.error.message).not.toContain('access token');
    expect(JSON.stringify(res.body)).not.toContain(bearer);
  }
});

describe('GET /v1/api-keys/names', () => {
  test('a reader resolves ids to name, role and whether revoked, revoked keys included; no prefix, hash or usage', async () => {
    const admin = (await get('/v1/api-keys', s.apiKey)).body.data as { id: string; name: string }[];
    const created = await request(s.url).post('/v1/api-keys').set('Authorization', `Bearer ${s.apiKey}`).send({ name: 'ci-pipeline', role: 'operator' });
    expect(created.status).toBe(201);
    expect((await request(s.url).post(`/v1/api-keys/${created.body.id}/revoke`).set('Authorization', `Bearer ${s.apiKey}`).send({})).status).toBe(200);
    const reader = await s.createApiKey('reader');
    const res = await get(`/v1/api-keys/names?id=${admin[0]!.id}&id=${created.body.id}&id=not-a-uuid&id=00000000-0000-4000-8000-000000000000`, reader);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(
      [
        { id: admin[0]!.id, name: admin[0]!.name, role: 'admin', revoked: false },
        { id: created.body.id, name: 'ci-pipeline', role: 'operator', revoked: true },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    for (const k of res.body.data) expect(Object.keys(k).sort()).toEqual(['id', 'name', 'revoked', 'role']);
  });

  test("another organization's key ids match nothing", async () => {
    const other = await s.createOrganization('admin');
    const otherKeys = (await get('/v1/api-keys', other.apiKey)).body.data as { id: string }[];
    const res = await get(`/v1/api-keys/names?id=${otherKeys[0]!.id}`, s.apiKey);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
  });

  test('bad input is a 400 with the stable error shape; no key is a 401', async () => {
    expectError(await get('/v1/api-keys/names', s.apiKey), 400, 'validation_error');
    const many = Array.from({ length: 201 }, () => 'id=00000000-0000-4000-8000-000000000000').join('&');
    expectError(await get(`/v1/api-keys/names?${many}`, s.apiKey), 400, 'validation_error');
    expectError(await get('/v1/api-keys/names?id=x&limit=3', s.apiKey), 400, 'validation_error');
    expect((await request(s.url).get('/v1/api-keys/names?id=x')).status).toBe(401);
  });
});
