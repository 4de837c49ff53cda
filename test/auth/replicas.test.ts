/**
 * Two control planes on one PostgreSQL (independent apps, pools and LISTEN connections, same
 * master key): each sees the other's revocations, suspensions, session ends, key rotations and
 * API-key revocations without waiting for any cache to expire, and a client assertion replayed
 * on the other replica is refused. PostgreSQL only: PGlite is an embedded single-process store
 * (its data directory is locked to one process), so there is no second replica to observe.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { testBackend } from '../support/databases';
import { admin, ASSERTION_TYPE, assertion, createAgent, decodeHeader, getToken, introspect, tokenRequest } from './helpers';

const describePg = testBackend() === 'postgres' ? describe : describe.skip;

describePg('two replicas on one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  const delays: number[] = [];

  beforeAll(async () => {
    const masterKey = randomBytes(32).toString('base64url');
    a = await startTestServer({ masterKey });
    // Same issuer for both, as behind one load balancer.
    b = await startTestServer({ store: a.store, masterKey, env: { CERTUSORDO_PUBLIC_URL: a.url } });
  });
  afterAll(async () => {
    if (delays.length) console.log(`revocation → invisible on the other replica (ms): ${delays.map((d) => d.toFixed(1)).join(', ')}`);
    await b?.close();
    await a?.close();
  });

  /** Introspects on `url` until inactive; returns the delay (ms) measured from `since`. */
  async function untilInactive(url: string, token: string, since: number): Promise<number> {
    for (;;) {
      if (!(await introspect(url, a.apiKey, token)).active) return performance.now() - since;
      if (performance.now() - since > 5000) throw new Error('still active after 5 s');
    }
  }

  test('a token revoked on A is inactive on B (B had it cached as active)', async () => {
    const agent = await createAgent(a);
    for (let i = 0; i < 5; i++) {
      const token = await getToken(a, agent);
      expect((await introspect(b.url, a.apiKey, token)).active).toBe(true);
      await request(a.url).post('/v1/oauth/revoke').type('form').send({ token }).expect(200);
      delays.push(await untilInactive(b.url, token, performance.now()));
    }
  });

  test('suspension on B is seen by A; reactivation keeps old tokens dead everywhere', async () => {
    const agent = await createAgent(a);
    const old = await getToken(a, agent);
    expect((await introspect(a.url, a.apiKey, old)).active).toBe(true);
    await admin(b, a.apiKey).post(`/v1/agents/${agent.id}/suspend`).expect(200);
    delays.push(await untilInactive(a.url, old, performance.now()));
    await admin(b, a.apiKey).post(`/v1/agents/${agent.id}/activate`).expect(200);
    const fresh = await getToken(b, agent);
    for (const s of [a, b]) {
      expect(await introspect(s.url, a.apiKey, old)).toEqual({ active: false });
      expect((await introspect(s.url, a.apiKey, fresh)).active).toBe(true);
    }
  });

  test('a session ended on A is over on B; suspension on A refuses operations on B', async () => {
    const agent = await createAgent(a, { scopes: ['payments:read'] });
    const token = await getToken(a, agent);
    const s1 = (await request(a.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ scopes: ['payments:read'] })).body;
    expect((await introspect(b.url, a.apiKey, s1.access_token)).active).toBe(true);
    await request(a.url).delete(`/v1/sessions/${s1.id}`).set('Authorization', `Bearer ${token}`).expect(200);
    delays.push(await untilInactive(b.url, s1.access_token, performance.now()));

    const s2 = (await request(b.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ scopes: ['payments:read'], max_operations: 10 })).body;
    expect((await admin(b, a.apiKey).post(`/v1/sessions/${s2.id}/operations`, { scope: 'payments:read' })).status).toBe(200);
    await admin(a).post(`/v1/agents/${agent.id}/suspend`).expect(200);
    const refused = await admin(b, a.apiKey).post(`/v1/sessions/${s2.id}/operations`, { scope: 'payments:read' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details[0].message).toBe('agent_inactive');
    expect(await introspect(b.url, a.apiKey, s2.access_token)).toEqual({ active: false });
  });

  test('a client assertion replayed on the other replica is refused (even concurrently)', async () => {
    const agent = await createAgent(a);
    const form = { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(a, agent) };
    expect((await tokenRequest(a, form)).status).toBe(200);
    const replay = await tokenRequest(b, form);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_client');
    for (let i = 0; i < 5; i++) {
      const f = { ...form, client_assertion: await assertion(a, agent) };
      const results = await Promise.all([tokenRequest(a, f), tokenRequest(b, f), tokenRequest(a, f), tokenRequest(b, f)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
    }
  });

  test('a signing-key rotation on A is used and trusted by B', async () => {
    const agent = await createAgent(a);
    const before = await getToken(b, agent);
    const { kid } = (await admin(a).post('/v1/signing-keys/rotate')).body;
    let fromB = '';
    for (let i = 0; i < 100 && decodeHeader(fromB || before).kid !== kid; i++) {
      fromB = await getToken(b, agent);
      if (decodeHeader(fromB).kid !== kid) await new Promise((r) => setTimeout(r, 10));
    }
    expect(decodeHeader(fromB).kid).toBe(kid);
    for (const t of [before, fromB, await getToken(a, agent)]) {
      expect((await introspect(a.url, a.apiKey, t)).active).toBe(true);
      expect((await introspect(b.url, a.apiKey, t)).active).toBe(true);
    }
    const jwksB = (await request(b.url).get(`/orgs/${a.organizationId}/.well-known/jwks.json`)).body.keys.map((k: { kid: string }) => k.kid);
    expect(jwksB).toEqual(expect.arrayContaining([kid, decodeHeader(before).kid]));
  });

  test('an API key revoked on A stops working for introspection on B (B had it cached)', async () => {
    const agent = await createAgent(a);
    const token = await getToken(a, agent);
    const created = (await admin(a).post('/v1/api-keys', { name: 'relying-service', role: 'reader' })).body;
    expect((await introspect(b.url, created.key, token)).active).toBe(true);
    await admin(a).post(`/v1/api-keys/${created.id}/revoke`).expect(200);
    let status = 200;
    const t0 = Date.now();
    while (status === 200 && Date.now() - t0 < 5000) {
      status = (await request(b.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${created.key}`).type('form').send({ token })).status;
    }
    expect(status).toBe(401);
  });

  test('when B loses its LISTEN connection it stops trusting its caches, then recovers', async () => {
    const agent = await createAgent(a);
    const token = await getToken(a, agent);
    expect((await introspect(b.url, a.apiKey, token)).active).toBe(true);
    // Kill every auth listener connection (A's and B's), then revoke at once.
    await a.running.db.knex.raw(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'certusordo-auth-listener' and datname = current_database()`);
    await new Promise((r) => setTimeout(r, 100)); // the clients read the server's FATAL message
    await request(a.url).post('/v1/oauth/revoke').type('form').send({ token }).expect(200);
    expect(await introspect(b.url, a.apiKey, token)).toEqual({ active: false });
    // After reconnection, notifications flow again.
    const listeners = async () => Number((await a.running.db.knex.raw(`select count(*)::int as n from pg_stat_activity where application_name = 'certusordo-auth-listener' and datname = current_database()`)).rows[0].n);
    const t0 = Date.now();
    while ((await listeners()) < 2 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(await listeners()).toBe(2);
    const t2 = await getToken(a, agent);
    expect((await introspect(b.url, a.apiKey, t2)).active).toBe(true);
    await admin(a).post(`/v1/agents/${agent.id}/suspend`).expect(200);
    delays.push(await untilInactive(b.url, t2, performance.now()));
  });
});

if (testBackend() !== 'postgres') {
  test.skip('two replicas: PostgreSQL only (PGlite is single-process: its data directory is locked to one server)', () => undefined);
}
