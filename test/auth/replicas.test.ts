/**
 * Two control planes on one PostgreSQL (independent apps, pools and LISTEN connections, same
 * master key): each sees the other's revocations, suspensions, session ends, key rotations and
 * API-key revocations without waiting for any cache to expire, and a client assertion replayed
 * on the other replica is refused. Tests wait for the other replica's invalidation bus to deliver
 * the change's notification (RunningServer.invalidations), never for a length of time.
 * PostgreSQL only: PGlite is an embedded single-process store (its data directory is locked to
 * one process), so there is no second replica to observe.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { testBackend } from '../support/databases';
import { PgListenBus, type InvalidationBus, type InvalidationEvent } from '../../api/src/tokens/invalidation';
import { admin, ASSERTION_TYPE, assertion, createAgent, decodeHeader, decodePayload, getToken, introspect, nextInvalidation, tokenRequest } from './helpers';

const describePg = testBackend() === 'postgres' ? describe : describe.skip;

describePg('two replicas on one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    const masterKey = randomBytes(32).toString('base64url');
    a = await startTestServer({ masterKey });
    // Same issuer for both, as behind one load balancer.
    b = await startTestServer({ store: a.store, masterKey, env: { CERTUSORDO_PUBLIC_URL: a.url } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const heardReset = (healthy: boolean) => (e: InvalidationEvent, bus: InvalidationBus) => e.kind === 'reset' && bus.healthy === healthy;

  function listenBus(s: TestServer): PgListenBus {
    const bus = s.running.invalidations;
    if (!(bus instanceof PgListenBus)) throw new Error('expected the LISTEN bus on PostgreSQL');
    return bus;
  }

  // Each check waits until the other replica has received the change's notification (its caches
  // have applied it by then), then asks once: no cache expiry and no polling stands in between.

  test('a token revoked on A is inactive on B (B had it cached as active)', async () => {
    const agent = await createAgent(a);
    for (let i = 0; i < 5; i++) {
      const token = await getToken(a, agent);
      expect((await introspect(b.url, a.apiKey, token)).active).toBe(true);
      const jti = decodePayload(token).jti as string;
      const heard = nextInvalidation(b, `B hears that token ${i} was revoked`, (e) => e.kind === 'token' && e.jti === jti);
      await request(a.url).post('/v1/oauth/revoke').type('form').send({ token }).expect(200);
      await heard;
      expect(await introspect(b.url, a.apiKey, token)).toEqual({ active: false });
    }
  });

  test('suspension on B is seen by A; reactivation keeps old tokens dead everywhere', async () => {
    const agent = await createAgent(a);
    const old = await getToken(a, agent);
    expect((await introspect(a.url, a.apiKey, old)).active).toBe(true);
    const heard = nextInvalidation(a, 'A hears of the suspension made on B', (e) => e.kind === 'agent' && e.id === agent.id);
    await admin(b, a.apiKey).post(`/v1/agents/${agent.id}/suspend`).expect(200);
    await heard;
    expect(await introspect(a.url, a.apiKey, old)).toEqual({ active: false });
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
    const ended = nextInvalidation(b, 'B hears that the session ended', (e) => e.kind === 'session' && e.id === s1.id);
    await request(a.url).delete(`/v1/sessions/${s1.id}`).set('Authorization', `Bearer ${token}`).expect(200);
    await ended;
    expect(await introspect(b.url, a.apiKey, s1.access_token)).toEqual({ active: false });

    const s2 = (await request(b.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ scopes: ['payments:read'], max_operations: 10 })).body;
    expect((await admin(b, a.apiKey).post(`/v1/sessions/${s2.id}/operations`, { scope: 'payments:read' })).status).toBe(200);
    const suspended = nextInvalidation(b, 'B hears of the suspension', (e) => e.kind === 'agent' && e.id === agent.id);
    await admin(a).post(`/v1/agents/${agent.id}/suspend`).expect(200);
    // The session ended in the suspension's transaction: B refuses without waiting for the notification.
    const refused = await admin(b, a.apiKey).post(`/v1/sessions/${s2.id}/operations`, { scope: 'payments:read' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details[0].message).toBe('agent_inactive');
    await suspended;
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
    const heard = nextInvalidation(b, 'B hears of the rotation', (e) => e.kind === 'signing_keys' && e.orgId === a.organizationId);
    const { kid } = (await admin(a).post('/v1/signing-keys/rotate')).body;
    await heard;
    const fromB = await getToken(b, agent);
    expect(decodeHeader(fromB).kid).toBe(kid);
    expect(kid).not.toBe(decodeHeader(before).kid);
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
    const heard = nextInvalidation(b, 'B hears that the API key was revoked', (e) => e.kind === 'api_key' && e.id === created.id);
    await admin(a).post(`/v1/api-keys/${created.id}/revoke`).expect(200);
    await heard;
    const res = await request(b.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${created.key}`).type('form').send({ token });
    expect(res.status).toBe(401);
  });

  test('while B has lost its LISTEN connection it answers from the database, not its caches; once reconnected, notifications flow again', async () => {
    const agent = await createAgent(a);
    const token = await getToken(a, agent);
    expect((await introspect(b.url, a.apiKey, token)).active).toBe(true);
    const busB = listenBus(b);
    const reconnectsBefore = busB.stats.reconnects;
    // B stays down until released, so its answers below are known to come while it is down.
    const release = busB.holdReconnects();
    const aBack = nextInvalidation(a, "A's listener reconnects", heardReset(true));
    const bBack = nextInvalidation(b, "B's listener reconnects", heardReset(true));
    try {
      const lost = nextInvalidation(b, "B notices that its listener's connection is gone", heardReset(false));
      // Kill every auth listener connection (A's and B's), as a network cut or a failover would.
      await a.running.db.knex.raw(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'certusordo-auth-listener' and datname = current_database()`);
      await lost;
      // Read while down (were caches trusted now, this answer would be kept)...
      expect((await introspect(b.url, a.apiKey, token)).active).toBe(true);
      // ...then a change B cannot hear of: it must answer from the database.
      await admin(a).post(`/v1/agents/${agent.id}/suspend`).expect(200);
      expect(await introspect(b.url, a.apiKey, token)).toEqual({ active: false });
      expect(busB.healthy).toBe(false);
    } finally {
      release();
    }
    await Promise.all([aBack, bBack]);
    expect(busB.stats.reconnects).toBe(reconnectsBefore + 1);
    const other = await createAgent(a);
    const t2 = await getToken(a, other);
    expect((await introspect(b.url, a.apiKey, t2)).active).toBe(true);
    const heard = nextInvalidation(b, 'B hears of the suspension after reconnecting', (e) => e.kind === 'agent' && e.id === other.id);
    await admin(a).post(`/v1/agents/${other.id}/suspend`).expect(200);
    await heard;
    expect(await introspect(b.url, a.apiKey, t2)).toEqual({ active: false });
  });
});

if (testBackend() !== 'postgres') {
  test.skip('two replicas: PostgreSQL only (PGlite is single-process: its data directory is locked to one server)', () => undefined);
}
