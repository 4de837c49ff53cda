/** Bounded sessions: open, record operations (exact under concurrency), end, list; isolation. */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { admin, createAgent, decodePayload, getToken, introspect, TestAgent } from './helpers';

let s: TestServer;
let operator: string;
let reader: string;
beforeAll(async () => {
  s = await startTestServer();
  operator = await s.createApiKey('operator');
  reader = await s.createApiKey('reader');
});
afterAll(async () => s?.close());

const asBearer = (token: string) => ({
  post: (path: string, body: object = {}) => request(s.url).post(path).set('Authorization', `Bearer ${token}`).send(body),
  get: (path: string) => request(s.url).get(path).set('Authorization', `Bearer ${token}`),
  del: (path: string) => request(s.url).delete(path).set('Authorization', `Bearer ${token}`),
});

async function openSession(agent: TestAgent, body: object, token?: string) {
  const t = token ?? (await getToken(s, agent));
  return asBearer(t).post('/v1/sessions', body);
}

const op = (id: string, scope: string, key = operator) => asBearer(key).post(`/v1/sessions/${id}/operations`, { scope, description: `did ${scope}` });

function expectForbidden(res: request.Response, reason: string) {
  expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 403, code: 'forbidden' });
  expect(res.body.error.details).toEqual([{ path: 'reason', message: reason }]);
}

test('an agent opens a session and gets a token bound to it', async () => {
  const a = await createAgent(s, { scopes: ['payments:read', 'payments:write', 'reports:*'] });
  const t0 = Date.now();
  const res = await openSession(a, { scopes: ['payments:read', 'reports:daily'], ttl_seconds: 600, max_operations: 3, purpose: 'nightly reconciliation' });
  expect(res.status).toBe(201);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body).toEqual({
    id: expect.stringMatching(/^[0-9a-f-]{36}$/), agent_id: a.id, access_token: expect.any(String), expires_at: expect.any(String),
    scopes: ['payments:read', 'reports:daily'], max_operations: 3, operations_used: 0, status: 'active', purpose: 'nightly reconciliation',
    created_at: expect.any(String), ended_at: null, end_reason: null,
  });
  const expiresAt = new Date(res.body.expires_at).getTime();
  expect(expiresAt - t0).toBeGreaterThan(590_000);
  const claims = decodePayload(res.body.access_token);
  expect(claims).toMatchObject({ sub: a.id, sid: res.body.id, scope: 'payments:read reports:daily', org_id: s.organizationId });
  expect((claims.exp as number) * 1000).toBeLessThanOrEqual(expiresAt);
  expect(await introspect(s.url, s.apiKey, res.body.access_token)).toMatchObject({ active: true, sid: res.body.id, scope: 'payments:read reports:daily' });
  const events = (await admin(s).get(`/v1/audit-events?action=session.created&agent_id=${res.body.id}`)).body.data;
  expect(events[0]).toMatchObject({ actor_type: 'agent', actor_id: a.id, target_type: 'session' });
  expect(JSON.stringify(events)).not.toContain(res.body.access_token);
});

test('opening: scopes must narrow the token, body is validated, only agents (not API keys or session tokens) open', async () => {
  const a = await createAgent(s, { scopes: ['payments:read', 'payments:write'] });
  const token = await getToken(s, a, 'payments:read');
  const outside = await openSession(a, { scopes: ['payments:write'] }, token);
  expect(outside.status).toBe(403);
  expect(outside.body.error.details[0]).toMatchObject({ path: 'scopes' });
  expect((await openSession(a, { scopes: [] }, token)).status).toBe(400);
  expect((await openSession(a, { scopes: ['payments:read'], ttl_seconds: 0 }, token)).status).toBe(400);
  expect((await openSession(a, { scopes: ['payments:read'], ttl_seconds: 7200 }, token)).status).toBe(400);
  expect((await openSession(a, { scopes: ['payments:read'], max_operations: 0 }, token)).status).toBe(400);
  expect((await openSession(a, { scopes: ['payments:read'], extra: 1 }, token)).status).toBe(400);
  const defaults = await openSession(a, { scopes: ['payments:read'] }, token);
  expect(defaults.status).toBe(201);
  expect(defaults.body.max_operations).toBeNull();
  expect(new Date(defaults.body.expires_at).getTime() - new Date(defaults.body.created_at).getTime()).toBe(900_000);
  const nested = await openSession(a, { scopes: ['payments:read'] }, defaults.body.access_token);
  expect(nested.status).toBe(403);
  expect((await asBearer(s.apiKey).post('/v1/sessions', { scopes: ['payments:read'] })).status).toBe(403);
  const anon = await request(s.url).post('/v1/sessions').send({ scopes: ['payments:read'] });
  expect(anon.status).toBe(401);
  expect(anon.body.error.code).toBe('unauthenticated');
  expect((await asBearer('not-a-token').post('/v1/sessions', { scopes: ['payments:read'] })).status).toBe(401);
});

test('Idempotency-Key: a retried open returns the same session with a fresh token; another body conflicts', async () => {
  const a = await createAgent(s, { scopes: ['payments:read', 'payments:write'] });
  const b = await createAgent(s, { scopes: ['payments:read'] });
  const ta = await getToken(s, a);
  const open = (token: string, body: object, key: string) => request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`).set('Idempotency-Key', key).send(body);
  const first = await open(ta, { scopes: ['payments:read'], max_operations: 5 }, 'retry-1');
  expect(first.status).toBe(201);
  await op(first.body.id, 'payments:read');
  const again = await open(ta, { scopes: ['payments:read'], max_operations: 5 }, 'retry-1');
  expect(again.status).toBe(201);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body).toMatchObject({ id: first.body.id, operations_used: 1 });
  expect(decodePayload(again.body.access_token).sid).toBe(first.body.id);
  expect((await introspect(s.url, s.apiKey, again.body.access_token)).active).toBe(true);
  expect((await open(ta, { scopes: ['payments:write'] }, 'retry-1')).status).toBe(409);
  // the same key from another agent is another request
  const other = await open(await getToken(s, b), { scopes: ['payments:read'], max_operations: 5 }, 'retry-1');
  expect(other.status).toBe(201);
  expect(other.body.id).not.toBe(first.body.id);
  expect((await admin(s).get(`/v1/sessions?agent_id=${a.id}`)).body.data).toHaveLength(1);
  expect((await open(ta, { scopes: ['payments:read'] }, 'bad key with spaces')).status).toBe(400);
});

test('when the signing key cannot be loaded, opening a session fails and commits nothing (no session, no audit event)', async () => {
  const agent = await createAgent(s, { scopes: ['payments:read'] });
  const token = await getToken(s, agent);
  const db = s.running.db.knex;
  const sessionsOf = async () => (await db('sessions').where({ agent_id: agent.id })).length;
  // The table gone and the cached keys marked stale: the next signature must load them, and cannot.
  await db.raw('alter table signing_keys rename to signing_keys_away');
  try {
    s.running.auth.signingKeys.invalidate(s.organizationId);
    expect((await openSession(agent, { scopes: ['payments:read'], ttl_seconds: 60 }, token)).status).toBe(500);
  } finally {
    await db.raw('alter table signing_keys_away rename to signing_keys');
  }
  expect(await sessionsOf()).toBe(0);
  const created = (await admin(s).get(`/v1/audit-events?agent_id=${agent.id}&action=session.created`)).body.data;
  expect(created).toEqual([]);
  expect((await openSession(agent, { scopes: ['payments:read'], ttl_seconds: 60 }, token)).status).toBe(201);
});

test('operations: counted, audited, refused outside scope and past the budget; the budget ends the session token', async () => {
  const a = await createAgent(s, { scopes: ['payments:read', 'reports:*'] });
  const session = (await openSession(a, { scopes: ['payments:read', 'reports:*'], max_operations: 2 })).body;
  const first = await op(session.id, 'payments:read');
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({ id: session.id, operations_used: 1, status: 'active' });
  expect(first.body.access_token).toBeUndefined();
  expectForbidden(await op(session.id, 'payments:write'), 'scope_not_in_session');
  expect((await op(session.id, 'reports:weekly')).body).toMatchObject({ operations_used: 2, status: 'exhausted' });
  expectForbidden(await op(session.id, 'payments:read'), 'budget_exhausted');
  expect(await introspect(s.url, s.apiKey, session.access_token)).toEqual({ active: false });
  const events = (await admin(s).get(`/v1/audit-events?agent_id=${session.id}`)).body.data.map((e: { action: string; outcome: string; reason: string | null }) => [e.action, e.outcome, e.reason]);
  expect(events).toEqual([
    ['session.created', 'success', null],
    ['session.operation', 'success', null],
    ['session.operation_denied', 'failure', 'scope_not_in_session'],
    ['session.operation', 'success', null],
    ['session.operation_denied', 'failure', 'budget_exhausted'],
  ]);
  expect((await op(session.id, 'payments:read', reader)).status).toBe(403);
  expect((await op('00000000-0000-4000-8000-000000000000', 'payments:read')).status).toBe(404);
  expect((await op(session.id, '')).status).toBe(400);
});

test('50 concurrent operations against a budget of 17 succeed exactly 17 times', async () => {
  const a = await createAgent(s, { scopes: ['payments:read'] });
  const session = (await openSession(a, { scopes: ['payments:read'], max_operations: 17 })).body;
  const results = await Promise.all(Array.from({ length: 50 }, () => op(session.id, 'payments:read')));
  expect(results.filter((r) => r.status === 200)).toHaveLength(17);
  const refused = results.filter((r) => r.status === 403);
  expect(refused).toHaveLength(33);
  for (const r of refused) expect(r.body.error.details[0].message).toBe('budget_exhausted');
  expect(new Set(results.filter((r) => r.status === 200).map((r) => r.body.operations_used)).size).toBe(17);
  expect((await admin(s).get(`/v1/sessions/${session.id}`)).body).toMatchObject({ operations_used: 17, status: 'exhausted' });
  expect((await admin(s).get('/v1/audit-events/verify')).body.valid).toBe(true);
});

test('an expired session refuses operations and its token is inactive', async () => {
  const a = await createAgent(s, { scopes: ['payments:read'] });
  const session = (await openSession(a, { scopes: ['payments:read'], ttl_seconds: 1 })).body;
  expect(decodePayload(session.access_token).exp as number).toBeLessThanOrEqual(Math.floor(new Date(session.expires_at).getTime() / 1000));
  // Let its lifetime pass without waiting: move the row's window into the past.
  await s.running.db.knex.raw(`update sessions set created_at = created_at - interval '1 hour', expires_at = expires_at - interval '1 hour' where id = ?`, [session.id]);
  expectForbidden(await op(session.id, 'payments:read'), 'session_expired');
  expect((await admin(s).get(`/v1/sessions/${session.id}`)).body.status).toBe('expired');
  expect(await introspect(s.url, s.apiKey, session.access_token)).toEqual({ active: false });
});

test('ending: by the agent (its own only) or an operator key; idempotent; the session token dies at once', async () => {
  const a = await createAgent(s, { scopes: ['payments:read'] });
  const b = await createAgent(s, { scopes: ['payments:read'] });
  const ta = await getToken(s, a);
  const tb = await getToken(s, b);
  const sa = (await openSession(a, { scopes: ['payments:read'] }, ta)).body;
  expect((await asBearer(tb).del(`/v1/sessions/${sa.id}`)).status).toBe(404);
  expect((await asBearer(reader).del(`/v1/sessions/${sa.id}`)).status).toBe(403);
  const ended = await asBearer(ta).del(`/v1/sessions/${sa.id}`);
  expect(ended.status).toBe(200);
  expect(ended.body).toMatchObject({ status: 'ended', end_reason: 'ended_by_agent' });
  expect(await introspect(s.url, s.apiKey, sa.access_token)).toEqual({ active: false });
  expectForbidden(await op(sa.id, 'payments:read'), 'session_ended');
  expect((await asBearer(ta).del(`/v1/sessions/${sa.id}`)).body.status).toBe('ended');
  // the agent's own token is untouched
  expect((await introspect(s.url, s.apiKey, ta)).active).toBe(true);

  const sb = (await openSession(b, { scopes: ['payments:read'] }, tb)).body;
  const byKey = await asBearer(operator).del(`/v1/sessions/${sb.id}`);
  expect(byKey.body).toMatchObject({ status: 'ended', end_reason: 'ended_by_api_key' });
  expect(await introspect(s.url, s.apiKey, sb.access_token)).toEqual({ active: false });
});

test('suspending or revoking the agent ends its sessions (same transaction); reactivation does not revive them', async () => {
  const a = await createAgent(s, { scopes: ['payments:read'] });
  const s1 = (await openSession(a, { scopes: ['payments:read'] })).body;
  const s2 = (await openSession(a, { scopes: ['payments:read'], max_operations: 5 })).body;
  await admin(s).post(`/v1/agents/${a.id}/suspend`).expect(200);
  for (const x of [s1, s2]) {
    expect((await admin(s).get(`/v1/sessions/${x.id}`)).body).toMatchObject({ status: 'ended', end_reason: 'agent_suspended' });
    expect(await introspect(s.url, s.apiKey, x.access_token)).toEqual({ active: false });
    expectForbidden(await op(x.id, 'payments:read'), 'agent_inactive');
  }
  await admin(s).post(`/v1/agents/${a.id}/activate`).expect(200);
  expect(await introspect(s.url, s.apiKey, s1.access_token)).toEqual({ active: false });
  const s3 = (await openSession(a, { scopes: ['payments:read'] })).body;
  await admin(s).post(`/v1/agents/${a.id}/revoke`).expect(200);
  expect((await admin(s).get(`/v1/sessions/${s3.id}`)).body.end_reason).toBe('agent_revoked');
  const ended = (await admin(s).get(`/v1/audit-events?action=session.ended&agent_id=${s3.id}`)).body.data;
  expect(ended[0]).toMatchObject({ reason: 'agent_revoked', actor_type: 'api_key' });
});

test('listing: filters, keyset pagination; an agent sees only its own', async () => {
  const a = await createAgent(s, { scopes: ['payments:read'] });
  const b = await createAgent(s, { scopes: ['payments:read'] });
  const ta = await getToken(s, a);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await openSession(a, { scopes: ['payments:read'], max_operations: 1 }, ta)).body.id);
  await op(ids[0]!, 'payments:read');
  await asBearer(ta).del(`/v1/sessions/${ids[1]}`);
  const sb = (await openSession(b, { scopes: ['payments:read'] })).body;

  const page1 = (await asBearer(reader).get(`/v1/sessions?agent_id=${a.id}&limit=2`)).body;
  expect(page1.data.map((x: { id: string }) => x.id)).toEqual(ids.slice(0, 2));
  const page2 = (await asBearer(reader).get(`/v1/sessions?agent_id=${a.id}&limit=2&cursor=${page1.next_cursor}`)).body;
  const page3 = (await asBearer(reader).get(`/v1/sessions?agent_id=${a.id}&limit=2&cursor=${page2.next_cursor}`)).body;
  expect([...page2.data, ...page3.data].map((x: { id: string }) => x.id)).toEqual(ids.slice(2));
  expect(page3.next_cursor).toBeNull();
  const status = async (st: string) => (await admin(s).get(`/v1/sessions?agent_id=${a.id}&status=${st}`)).body.data.map((x: { id: string }) => x.id);
  expect(await status('exhausted')).toEqual([ids[0]]);
  expect(await status('ended')).toEqual([ids[1]]);
  expect(await status('active')).toEqual(ids.slice(2));
  expect(await status('expired')).toEqual([]);
  expect((await admin(s).get('/v1/sessions?status=bogus')).status).toBe(400);
  expect((await admin(s).get('/v1/sessions?cursor=bogus')).status).toBe(400);

  // The agent: its own only, whatever it asks for.
  const mine = (await asBearer(ta).get('/v1/sessions')).body.data.map((x: { id: string }) => x.id);
  expect(mine).toEqual(ids);
  expect((await asBearer(ta).get(`/v1/sessions?agent_id=${b.id}`)).body.data).toEqual([]);
  expect((await asBearer(ta).get(`/v1/sessions/${sb.id}`)).status).toBe(404);
  expect((await asBearer(ta).get(`/v1/sessions/${ids[2]}`)).body.id).toBe(ids[2]);
  expect((await admin(s).get('/v1/sessions/not-a-uuid')).status).toBe(404);
});

test('cross-organization isolation on every session endpoint', async () => {
  const a = await createAgent(s, { scopes: ['payments:read'] });
  const session = (await openSession(a, { scopes: ['payments:read'] })).body;
  const other = await s.createOrganization('admin');
  const o = asBearer(other.apiKey);
  expect((await o.get(`/v1/sessions/${session.id}`)).status).toBe(404);
  expect((await o.get('/v1/sessions')).body.data).toEqual([]);
  expect((await o.get(`/v1/sessions?agent_id=${a.id}`)).body.data).toEqual([]);
  expect((await o.post(`/v1/sessions/${session.id}/operations`, { scope: 'payments:read' })).status).toBe(404);
  expect((await o.del(`/v1/sessions/${session.id}`)).status).toBe(404);
  expect(await introspect(s.url, other.apiKey, session.access_token)).toEqual({ active: false });
  // An agent of the other org cannot see or end this org's session either.
  const b = await createAgent(s, { scopes: ['payments:read'] }, other.apiKey);
  const tb = await getToken(s, b);
  expect((await asBearer(tb).get(`/v1/sessions/${session.id}`)).status).toBe(404);
  expect((await asBearer(tb).del(`/v1/sessions/${session.id}`)).status).toBe(404);
  expect((await admin(s).get(`/v1/sessions/${session.id}`)).body).toMatchObject({ status: 'active', operations_used: 0 });
});
