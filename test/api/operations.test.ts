/** Operations: health, OpenAPI, headers, database-level invariants, the data-dir lock, restarts. */
import fs from 'node:fs';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { client, Client, expectError } from '../support/http';
import { lockDataDir, DataDirLockedError } from '../../api/src/db/lock';
import { openDatabase } from '../../api/src/db/connect';
import { uuidv7 } from '../../api/src/crypto/ids';

let s: TestServer;
let api: Client;
beforeAll(async () => {
  s = await startTestServer();
  api = client(s.url, s.apiKey);
});
afterAll(async () => s?.close());

test('health, readiness, request ids and security headers', async () => {
  const h = await request(s.url).get('/healthz');
  expect(h.body).toEqual({ status: 'ok' });
  const r = await request(s.url).get('/readyz');
  expect(r.status).toBe(200);
  expect(r.body.database).toBe(s.store.backend);
  expect(h.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect((await request(s.url).get('/healthz').set('X-Request-Id', 'abc-123')).headers['x-request-id']).toBe('abc-123');
  expect((await request(s.url).get('/healthz').set('X-Request-Id', 'bad id\twith spaces')).headers['x-request-id']).not.toContain(' ');
  // A JSON answer: the API set (nothing may load or frame it), not the document set.
  expect(h.headers['x-content-type-options']).toBe('nosniff');
  expect(h.headers['x-powered-by']).toBeUndefined();
  expect(h.headers['strict-transport-security']).toBeDefined();
  expect(h.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(h.headers['x-frame-options']).toBe('DENY');
  expect(h.headers['referrer-policy']).toBe('no-referrer');
  expect(h.headers['cross-origin-opener-policy']).toBeUndefined();
  // Documents get helmet's full set.
  const docs = await request(s.url).get('/docs');
  expect(docs.headers['cross-origin-opener-policy']).toBe('same-origin');
  expect(docs.headers['x-content-type-options']).toBe('nosniff');
  expect(docs.headers['strict-transport-security']).toBe(h.headers['strict-transport-security']);
});

test('GET / points the way in: the console, the API reference, the OpenAPI document, each of them served', async () => {
  const home = await request(s.url).get('/');
  expect(home.status).toBe(200);
  expect(home.body).toEqual({ service: 'certusordo', console: '/console', api_reference: '/docs', openapi: '/v1/openapi.json', health: '/healthz' });
  for (const path of [home.body.api_reference, home.body.openapi, home.body.health]) expect((await request(s.url).get(path)).status).toBe(200);
});

test('unknown routes are JSON 404s', async () => {
  expectError(await request(s.url).get('/nope'), 404, 'not_found');
  expectError(await api.get('/v1/nope'), 404, 'not_found');
});

test('OpenAPI document comes from the validating schemas, and /docs renders it', async () => {
  const doc = (await request(s.url).get('/v1/openapi.json')).body;
  expect(doc.openapi).toBe('3.1.0');
  const ref = doc.paths['/v1/agents'].post.requestBody.content['application/json'].schema.$ref;
  expect(ref).toBe('#/components/schemas/AgentCreate');
  const create = doc.components.schemas.AgentCreate;
  expect(create.required).toEqual(['name']);
  expect(create.additionalProperties).toBe(false);
  expect(Object.keys(create.properties).sort()).toEqual(['federated_credentials', 'may_act', 'metadata', 'name', 'public_key', 'scopes']);
  const params = doc.paths['/v1/agents'].get.parameters.map((p: { name: string }) => p.name);
  expect(params).toEqual(expect.arrayContaining(['status', 'name_prefix', 'never_authenticated', 'inactive_since', 'limit', 'cursor']));
  const docs = await request(s.url).get('/docs');
  expect(docs.headers['content-type']).toMatch(/html/);
  expect(docs.text).toContain('/v1/agents/{id}/suspend');
});

describe('invariants enforced by the database itself', () => {
  const knex = () => s.running.db.knex;
  const row = (over: object = {}) => {
    const now = new Date();
    return { id: uuidv7(), organization_id: s.organizationId, name: `db-${uuidv7().slice(-8)}`, scopes: '[]', metadata: '{}', status: 'active', created_at: now, updated_at: now, status_changed_at: now, ...over };
  };

  test('status values are checked', async () => {
    await expect(knex()('agents').insert(row({ status: 'deleted' }))).rejects.toThrow(/agents_status_chk/);
  });

  test('a revoked row can never change status again', async () => {
    const r = row({ status: 'revoked' });
    await knex()('agents').insert(r);
    await expect(knex()('agents').where({ id: r.id }).update({ status: 'active' })).rejects.toThrow(/revocation is permanent/);
    await expect(knex()('agents').where({ id: r.id }).update({ status: 'suspended' })).rejects.toThrow(/revocation is permanent/);
    expect((await knex()('agents').where({ id: r.id }).first()).status).toBe('revoked');
  });

  test('names are unique per organization among non-revoked agents', async () => {
    const a = row();
    await knex()('agents').insert(a);
    await expect(knex()('agents').insert(row({ name: a.name }))).rejects.toThrow(/agents_live_name_uniq/);
    await knex()('agents').insert(row({ name: a.name, status: 'revoked' }));
  });
});

test('the embedded data directory is locked against a second process', () => {
  const dir = `${s.store.dataDir}-lockcheck`;
  const lock = lockDataDir(dir);
  try {
    // A live foreign pid in the lock file, as a second process would see it.
    fs.writeFileSync(`${dir}/certusordo.lock`, String(process.ppid));
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(/in use by another CertusOrdo process .*--data-dir/);
    // A stale lock (dead pid) is taken over.
    fs.writeFileSync(`${dir}/certusordo.lock`, '999999');
    lockDataDir(dir).release();
  } finally {
    lock.release();
  }
});

test('a second open of a running PGlite store fails with a clear message', async () => {
  if (s.store.backend !== 'pglite') return; // only the embedded store has a directory lock
  await expect(openDatabase({ dataDir: s.store.dataDir })).rejects.toThrow(/in use by another CertusOrdo process/);
});

test('a restart keeps every agent, key, API key and audit event', async () => {
  const local = await startTestServer();
  const c = client(local.url, local.apiKey);
  const a = (await c.post('/v1/agents', { name: 'survivor', scopes: ['x:read'], metadata: { k: 'v' } })).body;
  await c.post(`/v1/agents/${a.id}/suspend`);
  const before = { agent: (await c.get(`/v1/agents/${a.id}`)).body, audit: (await c.get('/v1/audit-events')).body.data.length };
  await local.close();
  const again = await startTestServer({ store: local.store, masterKey: local.config.masterKey });
  try {
    expect(again.running.bootstrap).toBeNull(); // not a fresh database: no second bootstrap
    const c2 = client(again.url, local.apiKey); // the old API key still authenticates
    expect((await c2.get(`/v1/agents/${a.id}`)).body).toEqual(before.agent);
    expect((await c2.get('/v1/audit-events')).body.data.length).toBe(before.audit);
    expect((await c2.get('/v1/audit-events/verify')).body.valid).toBe(true);
  } finally {
    await again.close();
  }
});

test('rate limiting answers 429 rate_limited with Retry-After, per API key', async () => {
  const limited = await startTestServer({ env: { CERTUSORDO_RATE_LIMIT: '1' } }); // burst of 2, then 1/s
  try {
    const c = client(limited.url, limited.apiKey);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await c.get('/v1/agents')).status);
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    const res = await c.get('/v1/agents');
    expectError(res, 429, 'rate_limited');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another key is unaffected.
    expect((await client(limited.url, await limited.createApiKey('reader')).get('/v1/agents')).status).toBe(200);
  } finally {
    await limited.close();
  }
});
