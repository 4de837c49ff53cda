/**
 * Sessions inside their parent: revoking the access token that opened a session, or one its token
 * was renewed with, ends it (and a session token's revocation ends its own session), at once and
 * on every replica (an expired parent: expired-revocation.test.ts); a session token expires with its parent and is renewed
 * with a fresh access token, bounded by it; operations and live tokens hold only the agent's
 * current scopes; a session token manages only its own session.
 */
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { testBackend } from '../support/databases';
import { untilLockWaiters } from '../support/pg-locks';
import { admin, createAgent, decodePayload, getToken, introspect, nextInvalidation, TestAgent } from './helpers';

let s: TestServer;
let operator: string;
beforeAll(async () => {
  s = await startTestServer();
  operator = await s.createApiKey('operator');
});
afterAll(async () => s?.close());

const asBearer = (token: string, url = s.url) => ({
  post: (path: string, body: object = {}) => request(url).post(path).set('Authorization', `Bearer ${token}`).send(body),
  get: (path: string) => request(url).get(path).set('Authorization', `Bearer ${token}`),
  del: (path: string) => request(url).delete(path).set('Authorization', `Bearer ${token}`),
});

async function openSession(token: string, body: object = { scopes: ['payments:read'] }, url = s.url): Promise<{ id: string; access_token: string; expires_at: string; created_at: string }> {
  const res = await asBearer(token, url).post('/v1/sessions', body);
  if (res.status !== 201) throw new Error(`open session: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

function revoke(token: string, bearer?: string, url = s.url) {
  const r = request(url).post('/v1/oauth/revoke').type('form');
  return (bearer ? r.set('Authorization', `Bearer ${bearer}`) : r).send({ token });
}

const op = (id: string, scope: string) => asBearer(operator).post(`/v1/sessions/${id}/operations`, { scope });

function expectDenied(res: request.Response, reason: string) {
  expect({ status: res.status, code: res.body.error?.code, details: res.body.error?.details }).toEqual({ status: 403, code: 'forbidden', details: [{ path: 'reason', message: reason }] });
}

const session = async (id: string) => (await admin(s).get(`/v1/sessions/${id}`)).body;

async function endedEvents(sessionId: string): Promise<{ reason: string; actor_type: string; actor_id: string; data: Record<string, unknown> }[]> {
  return (await admin(s).get(`/v1/audit-events?action=session.ended&agent_id=${sessionId}`)).body.data;
}

describe('sessions die with their parent token', () => {
  test('revoking the parent (the token itself as proof) ends every session it opened at once, audited; other sessions live on', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const parent = await getToken(s, a);
    const other = await getToken(s, a);
    const s1 = await openSession(parent);
    const s2 = await openSession(parent, { scopes: ['payments:read'], max_operations: 5 });
    const s3 = await openSession(other);
    // Cached as active on this replica before the revocation.
    for (const x of [s1, s2, s3]) expect((await introspect(s.url, s.apiKey, x.access_token)).active).toBe(true);
    expect((await op(s2.id, 'payments:read')).status).toBe(200);

    await revoke(parent).expect(200);
    for (const x of [s1, s2]) {
      expect(await introspect(s.url, s.apiKey, x.access_token)).toEqual({ active: false });
      expect(await session(x.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked', ended_at: expect.any(String) });
      expectDenied(await op(x.id, 'payments:read'), 'session_ended');
      expect(await endedEvents(x.id)).toEqual([
        expect.objectContaining({ reason: 'parent_token_revoked', actor_type: 'agent', actor_id: a.id, data: expect.objectContaining({ agent_id: a.id, token_jti: decodePayload(parent).jti }) }),
      ]);
    }
    expect(await session(s3.id)).toMatchObject({ status: 'active', end_reason: null });
    expect((await introspect(s.url, s.apiKey, s3.access_token)).active).toBe(true);
    expect((await introspect(s.url, s.apiKey, other)).active).toBe(true);
    // Revoking again is a no-op (nothing more is ended or audited).
    await revoke(parent).expect(200);
    expect(await endedEvents(s1.id)).toHaveLength(1);
    expect((await admin(s).get('/v1/audit-events/verify')).body.valid).toBe(true);
  });

  test('revoked by an operator API key or by the agent\'s other token: the revoker is the actor', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const p1 = await getToken(s, a);
    const p2 = await getToken(s, a);
    const s1 = await openSession(p1);
    const s2 = await openSession(p2);
    await revoke(p1, operator).expect(200);
    expect(await session(s1.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked' });
    expect((await endedEvents(s1.id))[0]).toMatchObject({ actor_type: 'api_key' });
    expect(await session(s2.id)).toMatchObject({ status: 'active' });

    const p3 = await getToken(s, a);
    await revoke(p2, p3).expect(200);
    expect(await session(s2.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked' });
    expect((await endedEvents(s2.id))[0]).toMatchObject({ actor_type: 'agent', actor_id: a.id });
    expect(await introspect(s.url, s.apiKey, s2.access_token)).toEqual({ active: false });
  });

  test('an API key of another organization cannot end sessions by revoking their parent', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const parent = await getToken(s, a);
    const s1 = await openSession(parent);
    const other = await s.createOrganization('operator');
    await revoke(parent, other.apiKey).expect(200);
    expect(await session(s1.id)).toMatchObject({ status: 'active' });
    expect((await introspect(s.url, s.apiKey, parent)).active).toBe(true);
  });

  test('revoking a session token ends its session (the parent and sibling sessions are untouched)', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const parent = await getToken(s, a);
    const s1 = await openSession(parent);
    const s2 = await openSession(parent);
    expect((await introspect(s.url, s.apiKey, s1.access_token)).active).toBe(true);
    await revoke(s1.access_token).expect(200);
    expect(await session(s1.id)).toMatchObject({ status: 'ended', end_reason: 'session_token_revoked' });
    expectDenied(await op(s1.id, 'payments:read'), 'session_ended');
    expect((await endedEvents(s1.id))[0]).toMatchObject({ reason: 'session_token_revoked', actor_type: 'agent' });
    expect((await introspect(s.url, s.apiKey, parent)).active).toBe(true);
    expect(await session(s2.id)).toMatchObject({ status: 'active' });
    // A second token of the same session (Idempotency-Key replay) dies with the session.
    const key = `k-${randomBytes(4).toString('hex')}`;
    const first = await request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${parent}`).set('Idempotency-Key', key).send({ scopes: ['payments:read'] }).expect(201);
    const again = await request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${parent}`).set('Idempotency-Key', key).send({ scopes: ['payments:read'] }).expect(201);
    expect(again.body.id).toBe(first.body.id);
    await revoke(first.body.access_token, operator).expect(200);
    expect(await introspect(s.url, s.apiKey, again.body.access_token)).toEqual({ active: false });
  });

  test('a parent that merely expires does not end the session (it keeps its own TTL), but its token expires with the parent', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const parent = await getToken(s, a);
    const opened = await openSession(parent, { scopes: ['payments:read'], ttl_seconds: 3600 });
    const parentExp = decodePayload(parent).exp as number;
    const sessionExp = decodePayload(opened.access_token).exp as number;
    // The access token lives CERTUSORDO_TOKEN_TTL (300 s by default); the session an hour, its token no longer than its parent.
    expect(parentExp - (decodePayload(parent).iat as number)).toBe(s.config.accessTokenTtlSeconds);
    expect(new Date(opened.expires_at).getTime() - new Date(opened.created_at).getTime()).toBe(3_600_000);
    expect(sessionExp).toBe(parentExp);
  });

  test('opening races revoking the parent: every session that was opened ends with it', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const parent = await getToken(s, a);
    const opens = Array.from({ length: 12 }, () => asBearer(parent).post('/v1/sessions', { scopes: ['payments:read'] }));
    const revoked = revoke(parent);
    const results = await Promise.all(opens);
    await revoked.expect(200);
    for (const r of results) expect([201, 401]).toContain(r.status);
    for (const r of results.filter((x) => x.status === 201)) {
      expect(await session(r.body.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked' });
      expect(await introspect(s.url, s.apiKey, r.body.access_token)).toEqual({ active: false });
    }
    expect((await asBearer(parent).post('/v1/sessions', { scopes: ['payments:read'] })).status).toBe(401);
  });
});

const renew = (id: string, token: string, url = s.url) => asBearer(token, url).post(`/v1/sessions/${id}/token`);

describe('a session\'s token is renewed with a fresh access token of the agent, and bounded by it', () => {
  test('the renewed token: the same session, the new parent\'s expiry, audited; revoking the renewing token ends the session', async () => {
    const a = await createAgent(s, { scopes: ['payments:read', 'payments:write'] });
    const opener = await getToken(s, a);
    const opened = await openSession(opener, { scopes: ['payments:read', 'payments:write'], ttl_seconds: 3600, max_operations: 5 });
    const fresh = await getToken(s, a);
    const res = await renew(opened.id, fresh);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ id: opened.id, status: 'active', scopes: ['payments:read', 'payments:write'], expires_at: opened.expires_at, access_token: expect.any(String) });
    const claims = decodePayload(res.body.access_token);
    expect(claims).toMatchObject({ sid: opened.id, sub: a.id, scope: 'payments:read payments:write', exp: decodePayload(fresh).exp });
    expect(await introspect(s.url, s.apiKey, res.body.access_token)).toMatchObject({ active: true, sid: opened.id });
    const renewed = (await admin(s).get(`/v1/audit-events?action=session.token_renewed&agent_id=${opened.id}`)).body.data;
    expect(renewed).toEqual([expect.objectContaining({ actor_type: 'agent', actor_id: a.id, target_id: opened.id, data: expect.objectContaining({ parent_jti: decodePayload(fresh).jti, scopes: ['payments:read', 'payments:write'] }) })]);
    expect(JSON.stringify(renewed)).not.toContain(res.body.access_token);

    // Revoking the token it was renewed with ends the session, like revoking its opener.
    await revoke(fresh).expect(200);
    expect(await session(opened.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked' });
    for (const t of [res.body.access_token, opened.access_token]) expect(await introspect(s.url, s.apiKey, t)).toEqual({ active: false });
    expect((await introspect(s.url, s.apiKey, opener)).active).toBe(true);
  });

  test('a narrower token renews the session\'s token with the scopes it holds, never more', async () => {
    const a = await createAgent(s, { scopes: ['payments:read', 'payments:write', 'reports:*'] });
    const opened = await openSession(await getToken(s, a), { scopes: ['payments:read', 'reports:*'] });
    const narrow = await getToken(s, a, 'payments:read reports:daily');
    const res = await renew(opened.id, narrow);
    expect(res.status).toBe(200);
    expect(decodePayload(res.body.access_token).scope).toBe('payments:read reports:daily');
    const none = await renew(opened.id, await getToken(s, a, 'payments:write'));
    expect(none.status).toBe(403);
    expect(none.body.error.details).toEqual([
      { path: 'scopes', message: '"payments:read" is not granted to this token' }, { path: 'scopes', message: '"reports:*" is not granted to this token' },
    ]);
  });

  test('refused: a session token, another agent\'s session, an unknown id; a session that ended stays ended', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const b = await createAgent(s, { scopes: ['payments:read'] });
    const opener = await getToken(s, a);
    const opened = await openSession(opener);
    const sessionToken = await renew(opened.id, opened.access_token);
    expect({ status: sessionToken.status, details: sessionToken.body.error.details }).toEqual({ status: 403, details: [{ path: 'authorization', message: 'session_token' }] });
    expect((await renew(opened.id, await getToken(s, b))).status).toBe(404);
    expect((await renew('0190d6c5-0000-7000-8000-000000000000', opener)).status).toBe(404);
    expect((await renew('not-a-uuid', opener)).status).toBe(404);
    expect((await request(s.url).post(`/v1/sessions/${opened.id}/token`)).status).toBe(401);
    expect((await asBearer(s.apiKey).post(`/v1/sessions/${opened.id}/token`)).status).toBe(403);

    // Its opener revoked: the session ended, and a fresh token of the agent cannot bring it back.
    await revoke(opener).expect(200);
    expectDenied(await renew(opened.id, await getToken(s, a)), 'session_ended');
    expect(await session(opened.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked' });
    expect((await admin(s).get(`/v1/audit-events?action=session.token_renewed&agent_id=${opened.id}`)).body.data).toEqual([]);

    const spent = await openSession(await getToken(s, a), { scopes: ['payments:read'], max_operations: 1 });
    expect((await op(spent.id, 'payments:read')).status).toBe(200);
    expectDenied(await renew(spent.id, await getToken(s, a)), 'budget_exhausted');
    const old = await openSession(await getToken(s, a), { scopes: ['payments:read'], ttl_seconds: 60 });
    await s.running.db.knex.raw(`update sessions set created_at = created_at - interval '1 hour', expires_at = expires_at - interval '1 hour' where id = ?`, [old.id]);
    expectDenied(await renew(old.id, await getToken(s, a)), 'session_expired');
  });

  test('an Idempotency-Key retry with another token of the agent: the token it gets lives inside that token too', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const [t1, t2] = [await getToken(s, a), await getToken(s, a)];
    const key = `k-${randomBytes(4).toString('hex')}`;
    const open = (t: string) => request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${t}`).set('Idempotency-Key', key).send({ scopes: ['payments:read'] });
    const first = await open(t1).expect(201);
    const again = await open(t2).expect(201);
    expect(again.body.id).toBe(first.body.id);
    expect(decodePayload(again.body.access_token).exp).toBe(decodePayload(t2).exp);
    await revoke(t2).expect(200);
    expect(await session(first.body.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked' });
  });
});

describe('revoking a token that is not genuine', () => {
  test('a forged signature or another organization\'s API key changes nothing', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const opener = await getToken(s, a);
    const opened = await openSession(opener);
    const [h, p] = opener.split('.');
    const forged = `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`;
    await revoke(forged).expect(200);
    await revoke(opener, (await s.createOrganization('operator')).apiKey).expect(200);
    expect(await session(opened.id)).toMatchObject({ status: 'active' });
  });
});

describe('operations need the agent\'s current scopes', () => {
  test('a scope removed from the agent is refused (scope_revoked), audited; the rest still works', async () => {
    const a = await createAgent(s, { scopes: ['payments:read', 'payments:write', 'reports:*'] });
    const opened = await openSession(await getToken(s, a), { scopes: ['payments:read', 'payments:write', 'reports:*'], max_operations: 10 });
    expect((await op(opened.id, 'payments:write')).status).toBe(200);
    await admin(s).patch(`/v1/agents/${a.id}`, { scopes: ['payments:read', 'reports:daily'] }).expect(200);
    expectDenied(await op(opened.id, 'payments:write'), 'scope_revoked');
    expectDenied(await op(opened.id, 'reports:weekly'), 'scope_revoked');
    expect((await op(opened.id, 'reports:daily')).body).toMatchObject({ operations_used: 2 });
    expect((await op(opened.id, 'payments:read')).body).toMatchObject({ operations_used: 3 });
    // Outside the session is still reported as such, whatever the agent holds.
    expectDenied(await op(opened.id, 'admin:all'), 'scope_not_in_session');
    const events = (await admin(s).get(`/v1/audit-events?agent_id=${opened.id}`)).body.data
      .filter((e: { action: string }) => e.action.startsWith('session.operation'))
      .map((e: { action: string; reason: string | null; data: { scope: string } }) => [e.action, e.reason, e.data.scope]);
    expect(events).toEqual([
      ['session.operation', null, 'payments:write'],
      ['session.operation_denied', 'scope_revoked', 'payments:write'],
      ['session.operation_denied', 'scope_revoked', 'reports:weekly'],
      ['session.operation', null, 'reports:daily'],
      ['session.operation', null, 'payments:read'],
      ['session.operation_denied', 'scope_not_in_session', 'admin:all'],
    ]);
    // Granted again: allowed again (the session's own scopes never changed).
    await admin(s).patch(`/v1/agents/${a.id}`, { scopes: ['payments:read', 'payments:write', 'reports:*'] }).expect(200);
    expect((await op(opened.id, 'payments:write')).status).toBe(200);
  });

  test('a session cannot be opened for a scope the agent no longer holds, even with a token that still lists it', async () => {
    const a = await createAgent(s, { scopes: ['payments:read', 'payments:write'] });
    const token = await getToken(s, a);
    await admin(s).patch(`/v1/agents/${a.id}`, { scopes: ['payments:read'] }).expect(200);
    const refused = await asBearer(token).post('/v1/sessions', { scopes: ['payments:read', 'payments:write'] });
    expect(refused.status).toBe(403);
    // The token no longer holds the scope either: a removed scope is gone from the agent's live tokens.
    expect(refused.body.error.details).toEqual([{ path: 'scopes', message: '"payments:write" is not granted to this token' }]);
    expect((await asBearer(token).post('/v1/sessions', { scopes: ['payments:read'] })).status).toBe(201);
  });

  test('a scope removed from the agent is gone at once from its live tokens, plain and session: introspection, opening, renewal', async () => {
    const a = await createAgent(s, { scopes: ['payments:read', 'payments:write', 'reports:*'] });
    const plain = await getToken(s, a);
    const opened = await openSession(plain, { scopes: ['payments:read', 'payments:write', 'reports:*'] });
    // Cached on this replica before the change.
    expect(await introspect(s.url, s.apiKey, plain)).toMatchObject({ active: true, scope: 'payments:read payments:write reports:*' });
    expect(await introspect(s.url, s.apiKey, opened.access_token)).toMatchObject({ active: true, scope: 'payments:read payments:write reports:*' });
    await admin(s).patch(`/v1/agents/${a.id}`, { scopes: ['payments:read', 'reports:daily'] }).expect(200);
    expect(await introspect(s.url, s.apiKey, plain)).toMatchObject({ active: true, scope: 'payments:read reports:daily' });
    expect(await introspect(s.url, s.apiKey, opened.access_token)).toMatchObject({ active: true, scope: 'payments:read reports:daily' });
    // The control plane's own checks see the same: the token no longer covers payments:write.
    const refused = await asBearer(plain).post('/v1/sessions', { scopes: ['payments:write'] });
    expect(refused.status).toBe(403);
    expect(decodePayload((await renew(opened.id, plain)).body.access_token).scope).toBe('payments:read reports:daily');
    expectDenied(await op(opened.id, 'payments:write'), 'scope_revoked');
    // Granted again: back in the live tokens (never beyond what they were issued with).
    await admin(s).patch(`/v1/agents/${a.id}`, { scopes: ['payments:read', 'payments:write', 'reports:*', 'admin:all'] }).expect(200);
    expect(await introspect(s.url, s.apiKey, plain)).toMatchObject({ scope: 'payments:read payments:write reports:*' });
  });

  test('operations of an agent suspended then reactivated stay refused (agent_inactive)', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const opened = await openSession(await getToken(s, a));
    await admin(s).post(`/v1/agents/${a.id}/suspend`).expect(200);
    expectDenied(await op(opened.id, 'payments:read'), 'agent_inactive');
    await admin(s).post(`/v1/agents/${a.id}/activate`).expect(200);
    expectDenied(await op(opened.id, 'payments:read'), 'agent_inactive');
  });
});

describe('a session token manages only its own session', () => {
  let a: TestAgent;
  let parent: string;
  let s1: Awaited<ReturnType<typeof openSession>>;
  let s2: Awaited<ReturnType<typeof openSession>>;
  beforeEach(async () => {
    a = await createAgent(s, { scopes: ['payments:read'] });
    parent = await getToken(s, a);
    s1 = await openSession(parent);
    s2 = await openSession(parent);
  });

  test('listing and getting: its own session only', async () => {
    const t = asBearer(s1.access_token);
    const ids = async (path: string) => (await t.get(path)).body.data.map((x: { id: string }) => x.id);
    expect(await ids('/v1/sessions')).toEqual([s1.id]);
    expect(await ids(`/v1/sessions?agent_id=${a.id}`)).toEqual([s1.id]);
    expect(await ids('/v1/sessions?status=active')).toEqual([s1.id]);
    expect(await ids('/v1/sessions?status=ended')).toEqual([]);
    expect((await t.get(`/v1/sessions/${s1.id}`)).body.id).toBe(s1.id);
    expect((await t.get(`/v1/sessions/${s2.id}`)).status).toBe(404);
    // The agent's own token still sees both.
    expect((await asBearer(parent).get('/v1/sessions')).body.data.map((x: { id: string }) => x.id)).toEqual([s1.id, s2.id]);
  });

  test('ending: another session is 404 (and stays open); its own ends', async () => {
    const t = asBearer(s1.access_token);
    expect((await t.del(`/v1/sessions/${s2.id}`)).status).toBe(404);
    expect(await session(s2.id)).toMatchObject({ status: 'active' });
    expect((await t.del(`/v1/sessions/${s1.id}`)).body).toMatchObject({ status: 'ended', end_reason: 'ended_by_agent' });
  });

  test('opening: refused', async () => {
    const res = await asBearer(s1.access_token).post('/v1/sessions', { scopes: ['payments:read'] });
    expect(res.status).toBe(403);
    expect(res.body.error.details).toEqual([{ path: 'authorization', message: 'session_token' }]);
  });

  test('revoking: only itself; the parent, sibling session tokens and other tokens are a silent no-op', async () => {
    const other = await getToken(s, a);
    for (const target of [parent, s2.access_token, other]) {
      await revoke(target, s1.access_token).expect(200);
      expect((await introspect(s.url, s.apiKey, target)).active).toBe(true);
    }
    expect(await session(s2.id)).toMatchObject({ status: 'active' });
    expect((await admin(s).get(`/v1/audit-events?action=token.revoked&agent_id=${a.id}`)).body.data).toEqual([]);
    await revoke(s1.access_token, s1.access_token).expect(200);
    expect(await introspect(s.url, s.apiKey, s1.access_token)).toEqual({ active: false });
    expect(await session(s1.id)).toMatchObject({ status: 'ended', end_reason: 'session_token_revoked' });
  });
});

const describePg = testBackend() === 'postgres' ? describe : describe.skip;

describePg('opening and revoking the parent, pinned in both orders (PostgreSQL: another connection holds the chain head)', () => {
  let db: Knex;
  beforeAll(() => { db = knexFactory({ client: 'pg', connection: s.store.databaseUrl, pool: { min: 0, max: 2 } }); });
  afterAll(async () => db?.destroy());

  /** Holds the organization's audit chain head while `queue` puts requests behind it, in order. */
  async function whileChainHeadHeld(queue: (() => Promise<request.Response>)[]): Promise<request.Response[]> {
    const tx = await db.transaction();
    const pending: Promise<request.Response>[] = [];
    try {
      await tx.raw('select 1 from audit_chain_heads where organization_id = ? for update', [s.organizationId]);
      for (const [i, send] of queue.entries()) {
        pending.push(send().then((res) => res)); // then() sends the request
        await untilLockWaiters(db, (n) => n >= i + 1);
      }
    } finally {
      await tx.commit();
    }
    return Promise.all(pending);
  }

  test('the revocation first: the opening, queued behind it, is refused (401)', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const parent = await getToken(s, a);
    const [revoked, opened] = await whileChainHeadHeld([
      () => revoke(parent),
      () => asBearer(parent).post('/v1/sessions', { scopes: ['payments:read'] }),
    ]);
    expect(revoked!.status).toBe(200);
    expect({ status: opened!.status, code: opened!.body.error?.code }).toEqual({ status: 401, code: 'unauthenticated' });
    expect((await admin(s).get(`/v1/sessions?agent_id=${a.id}`)).body.data).toEqual([]);
  });

  test('a renewal first: the revocation of the renewing token, queued behind it, ends the session', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const opened = await openSession(await getToken(s, a));
    const fresh = await getToken(s, a);
    const [renewed, revoked] = await whileChainHeadHeld([() => renew(opened.id, fresh), () => revoke(fresh)]);
    expect([renewed!.status, revoked!.status]).toEqual([200, 200]);
    expect(await session(opened.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked' });
    expect(await introspect(s.url, s.apiKey, renewed!.body.access_token)).toEqual({ active: false });
  });

  test('the opening first: the revocation, queued behind it, ends the new session', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const parent = await getToken(s, a);
    const [opened, revoked] = await whileChainHeadHeld([
      () => asBearer(parent).post('/v1/sessions', { scopes: ['payments:read'] }),
      () => revoke(parent),
    ]);
    expect([opened!.status, revoked!.status]).toEqual([201, 200]);
    expect(await session(opened!.body.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked' });
    expect(await introspect(s.url, s.apiKey, opened!.body.access_token)).toEqual({ active: false });
  });
});

describePg('on another replica', () => {
  let b: TestServer;
  beforeAll(async () => {
    b = await startTestServer({ store: s.store, masterKey: s.config.masterKey, env: { CERTUSORDO_PUBLIC_URL: s.config.publicUrl ?? s.url } });
  });
  afterAll(async () => b?.close());

  test('a scope removed on one replica is gone from the agent\'s tokens on the other (which had them cached)', async () => {
    const a = await createAgent(s, { scopes: ['payments:read', 'payments:write'] });
    const plain = await getToken(s, a);
    expect(await introspect(b.url, s.apiKey, plain)).toMatchObject({ active: true, scope: 'payments:read payments:write' });
    const heard = nextInvalidation(b, 'the other replica hears of the scope change', (e) => e.kind === 'credentials' && e.id === a.id);
    await admin(s).patch(`/v1/agents/${a.id}`, { scopes: ['payments:read'] }).expect(200);
    await heard;
    expect(await introspect(b.url, s.apiKey, plain)).toMatchObject({ active: true, scope: 'payments:read' });
  });

  test('revoking the parent on one replica ends the session on the other (which had it cached as active)', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const parent = await getToken(s, a);
    const opened = await openSession(parent, { scopes: ['payments:read'] }, b.url);
    expect((await introspect(b.url, s.apiKey, opened.access_token)).active).toBe(true);
    // The other replica learns of the change by notification: wait until it has heard of it.
    const ended = nextInvalidation(b, 'the other replica hears that the session ended', (e) => e.kind === 'session' && e.id === opened.id);
    await revoke(parent, undefined, s.url).expect(200);
    await ended;
    expect(await introspect(b.url, s.apiKey, opened.access_token)).toEqual({ active: false });
    const refused = await asBearer(operator, b.url).post(`/v1/sessions/${opened.id}/operations`, { scope: 'payments:read' });
    expectDenied(refused, 'session_ended');
  });
});
