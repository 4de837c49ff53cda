/** API keys, roles, and organization isolation on every endpoint. */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { client, Client, expectError } from '../support/http';
import { controlPlaneRoutes } from '../../api/src/routes';
import { API_KEY_ROLES, type ApiKeyRole } from '../../model/roles';

let s: TestServer;
let admin: Client;
beforeAll(async () => {
  s = await startTestServer();
  admin = client(s.url, s.apiKey);
});
afterAll(async () => s?.close());

const AGENT_ENDPOINTS = (id: string) =>
  [
    ['get', `/v1/agents/${id}`],
    ['patch', `/v1/agents/${id}`, { scopes: [] }],
    ['post', `/v1/agents/${id}/suspend`, {}],
    ['post', `/v1/agents/${id}/activate`, {}],
    ['post', `/v1/agents/${id}/revoke`, {}],
    ['get', `/v1/agents/${id}/keys`],
    ['post', `/v1/agents/${id}/keys`, {}],
  ] as const;

function call(c: Client, method: string, path: string, body?: object) {
  switch (method) {
    case 'get':
      return c.get(path);
    case 'patch':
      return c.patch(path, body ?? {});
    case 'put':
      return c.put(path, body ?? {});
    case 'delete':
      return c.delete(path);
    default:
      return c.post(path, body ?? {});
  }
}

describe('authentication', () => {
  test.each([
    ['no header', undefined],
    ['wrong scheme', 'Basic abc'],
    ['malformed key', 'Bearer aa_short'],
    ['well-formed unknown key', `Bearer aa_${'A'.repeat(43)}`],
    ['right prefix, wrong body', 'PREFIX'],
  ])('401 unauthenticated with %s, with WWW-Authenticate', async (_l, header) => {
    const h = header === 'PREFIX' ? `Bearer ${s.apiKey.slice(0, 11)}${'A'.repeat(35)}` : header;
    const req = request(s.url).get('/v1/agents');
    const res = await (h ? req.set('Authorization', h) : req);
    expectError(res, 401, 'unauthenticated');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(JSON.stringify(res.body)).not.toContain(s.apiKey);
  });
});

describe('API keys', () => {
  test('create shows the key once; list never shows it; revoke stops it at once', async () => {
    const created = await admin.post('/v1/api-keys', { name: 'ci', role: 'reader' });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^aa_[A-Za-z0-9_-]{43}$/);
    expect(created.body.prefix).toBe(created.body.key.slice(0, 11));
    const list = await admin.get('/v1/api-keys');
    const listed = list.body.data.find((k: { id: string }) => k.id === created.body.id);
    expect(listed).toMatchObject({ name: 'ci', role: 'reader', revoked_at: null });
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    const reader = client(s.url, created.body.key);
    expect((await reader.get('/v1/agents')).status).toBe(200);
    const revoked = await admin.post(`/v1/api-keys/${created.body.id}/revoke`);
    expect(revoked.body.revoked_at).not.toBeNull();
    expectError(await reader.get('/v1/agents'), 401, 'unauthenticated');
  });

  test('a revoked key is refused on its very next request, every time (no stale cache)', async () => {
    for (let i = 0; i < 10; i++) {
      const created = (await admin.post('/v1/api-keys', { name: `churn-${i}`, role: 'reader' })).body;
      const c = client(s.url, created.key);
      expect((await c.get('/v1/agents')).status).toBe(200);
      expect((await c.get('/v1/agents')).status).toBe(200); // now cached where caching is on
      await admin.post(`/v1/api-keys/${created.id}/revoke`).expect(200);
      expectError(await c.get('/v1/agents'), 401, 'unauthenticated');
    }
  });

  test('create is idempotent with Idempotency-Key, and a replay never repeats the key', async () => {
    const first = await admin.post('/v1/api-keys', { name: 'idem', role: 'reader' }).set('Idempotency-Key', 'api-key-idem-1');
    const retry = await admin.post('/v1/api-keys', { name: 'idem', role: 'reader' }).set('Idempotency-Key', 'api-key-idem-1');
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.body.key).toBeUndefined();
    expect((await admin.get('/v1/api-keys')).body.data.filter((k: { name: string }) => k.name === 'idem')).toHaveLength(1);
  });

  test('validation and unknown ids', async () => {
    expectError(await admin.post('/v1/api-keys', { name: 'x', role: 'root' }), 400, 'validation_error');
    expectError(await admin.post('/v1/api-keys', { name: '' }), 400, 'validation_error');
    expectError(await admin.post('/v1/api-keys/nope/revoke'), 404, 'not_found');
  });

  test('a database writer holding a key cannot move its row to another organization or raise its role', async () => {
    const other = await s.createOrganization('admin');
    const otherAgent = (await client(s.url, other.apiKey).post('/v1/agents', { name: 'moved-into' })).body.id;
    const tamper = async (role: 'reader' | 'admin', organizationId: string) => {
      const created = (await admin.post('/v1/api-keys', { name: `tamper-${role}-${organizationId.slice(-4)}`, role: 'reader' })).body;
      // The writer edits the row before the key is ever used, so no cache stands between.
      await s.running.db.knex('api_keys').where({ id: created.id }).update({ role, organization_id: organizationId });
      return { id: created.id as string, key: client(s.url, created.key) };
    };
    const moved = await tamper('reader', other.organizationId);
    expectError(await moved.key.get(`/v1/agents/${otherAgent}`), 401, 'unauthenticated');
    const raised = await tamper('admin', s.organizationId);
    expectError(await raised.key.post('/v1/agents', { name: 'escalated' }), 401, 'unauthenticated');
    expectError(await raised.key.get('/v1/agents'), 401, 'unauthenticated');
    // Put back as created, the same key works again: the binding was the only thing refusing it.
    await s.running.db.knex('api_keys').where({ id: raised.id }).update({ role: 'reader', organization_id: s.organizationId });
    expect((await raised.key.get('/v1/agents')).status).toBe(200);
    expectError(await raised.key.post('/v1/agents', { name: 'escalated' }), 403, 'forbidden');
  });

  test('the key is stored only as a keyed hash', async () => {
    const created = await admin.post('/v1/api-keys', { name: 'hash-check', role: 'reader' });
    const row = await s.running.db.knex('api_keys').where({ id: created.body.id }).first();
    const dump = JSON.stringify(row) + Buffer.from(row.key_hash).toString('hex') + Buffer.from(row.key_hash).toString('base64');
    expect(dump).not.toContain(created.body.key.slice(11));
    expect(Buffer.from(row.key_hash)).toHaveLength(32);
  });
});

describe('roles', () => {
  let agentId: string;
  let introspector: Client;
  let reader: Client;
  let operator: Client;
  beforeAll(async () => {
    agentId = (await admin.post('/v1/agents', { name: 'role-target' })).body.id;
    introspector = client(s.url, await s.createApiKey('introspector'));
    reader = client(s.url, await s.createApiKey('reader'));
    operator = client(s.url, await s.createApiKey('operator'));
  });

  test('reader reads, and nothing else', async () => {
    expect((await reader.get('/v1/agents')).status).toBe(200);
    expect((await reader.get(`/v1/agents/${agentId}`)).status).toBe(200);
    expect((await reader.get(`/v1/agents/${agentId}/keys`)).status).toBe(200);
    expect((await reader.get('/v1/audit-events')).status).toBe(200);
    expectError(await reader.post('/v1/agents', { name: 'nope' }), 403, 'forbidden');
    expectError(await reader.patch(`/v1/agents/${agentId}`, { scopes: [] }), 403, 'forbidden');
    expectError(await reader.post(`/v1/agents/${agentId}/suspend`), 403, 'forbidden');
    expectError(await reader.get('/v1/api-keys'), 403, 'forbidden');
    expect((await admin.get(`/v1/agents/${agentId}`)).body.status).toBe('active');
  });

  test('operator reads and suspends, but cannot create, edit, reactivate or revoke', async () => {
    expectError(await operator.post('/v1/agents', { name: 'nope' }), 403, 'forbidden');
    expectError(await operator.patch(`/v1/agents/${agentId}`, { scopes: [] }), 403, 'forbidden');
    expectError(await operator.post(`/v1/agents/${agentId}/keys`), 403, 'forbidden');
    expectError(await operator.post('/v1/api-keys', { name: 'x', role: 'admin' }), 403, 'forbidden');
    expect((await operator.post(`/v1/agents/${agentId}/suspend`)).body.status).toBe('suspended');
    // An admin's suspension (a compromised agent) is not the operator's to undo, nor is revocation.
    const activate = await operator.post(`/v1/agents/${agentId}/activate`);
    expectError(activate, 403, 'forbidden');
    expect(activate.body.error.message).toBe('This call needs the admin role; the key has operator');
    expectError(await operator.post(`/v1/agents/${agentId}/revoke`), 403, 'forbidden');
    expect((await admin.get(`/v1/agents/${agentId}`)).body.status).toBe('suspended');
    expect((await admin.post(`/v1/agents/${agentId}/activate`)).body.status).toBe('active');
    const victim = (await admin.post('/v1/agents', { name: 'role-victim' })).body.id;
    expectError(await operator.post(`/v1/agents/${victim}/revoke`), 403, 'forbidden');
    expect((await admin.post(`/v1/agents/${victim}/revoke`)).body.status).toBe('revoked');
  });

  test('every route with a role refuses a key of the role below it (403 naming both), and changes nothing', async () => {
    const keys: Record<ApiKeyRole, Client> = { introspector, reader, operator, admin };
    const seen: Array<{ route: string; status: number; message: string }> = [];
    const expected: typeof seen = [];
    for (const { routes } of controlPlaneRoutes) {
      for (const r of routes) {
        if (r.auth.kind !== 'api_key' && r.auth.kind !== 'api_key_or_agent') continue;
        const below = API_KEY_ROLES[API_KEY_ROLES.indexOf(r.auth.role) - 1];
        if (!below) continue;
        const route = `${r.method.toUpperCase()} ${r.path} as ${below}`;
        const res = await call(keys[below], r.method, r.path.replace(/\{[a-z_]+\}/g, agentId), {});
        seen.push({ route, status: res.status, message: res.body?.error?.message ?? res.body?.error_description });
        expected.push({ route, status: 403, message: `This call needs the ${r.auth.role} role; the key has ${below}` });
      }
    }
    expect(seen).toEqual(expected);
    // The roles of the status changes: suspension is every operator's; reactivation and revocation are admin's.
    expect(expected.filter((e) => /^POST \/v1\/agents\/\{id\}\/(suspend|activate|revoke) /.test(e.route)).map((e) => e.route)).toEqual([
      'POST /v1/agents/{id}/suspend as reader',
      'POST /v1/agents/{id}/activate as operator',
      'POST /v1/agents/{id}/revoke as operator',
    ]);
    expect((await admin.get(`/v1/agents/${agentId}`)).body.status).toBe('active');
  });
});

describe('organization isolation', () => {
  let mine: { id: string; name: string; kid: string };
  let other: Client;
  let otherAgentId: string;
  beforeAll(async () => {
    const a = (await admin.post('/v1/agents', { name: 'isolated' })).body;
    const keys = (await admin.get(`/v1/agents/${a.id}/keys`)).body.data;
    mine = { id: a.id, name: a.name, kid: keys[0].kid };
    const org = await s.createOrganization('admin');
    other = client(s.url, org.apiKey);
    otherAgentId = (await other.post('/v1/agents', { name: 'isolated' })).body.id; // same name is fine across orgs
  });

  test('every agent endpoint answers 404 for another organization\'s agent and changes nothing', async () => {
    for (const [method, path, body] of [...AGENT_ENDPOINTS(mine.id), ['delete', `/v1/agents/${mine.id}/keys/${mine.kid}`] as const]) {
      const res = await call(other, method, path, body as object | undefined);
      expectError(res, 404, 'not_found');
    }
    const after = (await admin.get(`/v1/agents/${mine.id}`)).body;
    expect(after).toMatchObject({ status: 'active', scopes: [], name: 'isolated' });
    expect((await admin.get(`/v1/agents/${mine.id}/keys`)).body.data).toHaveLength(1);
  });

  test('lists, audit and API keys show only the caller\'s organization', async () => {
    const theirs = (await other.get('/v1/agents?limit=200')).body.data.map((a: { id: string }) => a.id);
    expect(theirs).toEqual([otherAgentId]);
    expect((await other.get(`/v1/agents?name=isolated`)).body.data.map((a: { id: string }) => a.id)).toEqual([otherAgentId]);
    const events = (await other.get(`/v1/audit-events?agent_id=${mine.id}`)).body.data;
    expect(events).toEqual([]);
    const auditTargets = (await other.get('/v1/audit-events?limit=500')).body.data.map((e: { target_id: string }) => e.target_id);
    expect(auditTargets).not.toContain(mine.id);
    const myKeys = (await admin.get('/v1/api-keys')).body.data.map((k: { id: string }) => k.id);
    const theirKeys = (await other.get('/v1/api-keys')).body.data.map((k: { id: string }) => k.id);
    expect(myKeys.filter((k: string) => theirKeys.includes(k))).toEqual([]);
    expectError(await other.post(`/v1/api-keys/${myKeys[0]}/revoke`), 404, 'not_found');
    expect((await admin.get('/v1/agents')).status).toBe(200); // my key still works
    expect((await other.get('/v1/audit-events/verify')).body.valid).toBe(true);
  });
});
