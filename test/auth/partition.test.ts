/**
 * Revocation under a silent partition: replica B's LISTEN connection goes through a TCP proxy that
 * stops forwarding without closing anything (a half-open socket after a failover or a NAT
 * timeout: no error, no end, notifications just stop). B trusts its caches only while a heartbeat
 * it sent itself on the channel has come back within the last second, so a token revoked on A is
 * refused by B within 1 s, answered from the database. Time is B's injected heartbeat clock, moved
 * forward by the bound, or B's own "link stale" event: no test sleeps or measures time.
 * PostgreSQL only: two replicas need a database both can open (PGlite is single-process).
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { testBackend } from '../support/databases';
import { startTcpProxy, throughProxy, TcpProxy } from '../support/tcp-proxy';
import type { InvalidationBus, InvalidationEvent } from '../../api/src/tokens/invalidation';
import { createAgent, decodePayload, getToken, introspect, nextInvalidation } from './helpers';

const describePg = testBackend() === 'postgres' ? describe : describe.skip;

/** The bound the bus guarantees (PgListenBus maxLagMs default). */
const MAX_LAG_MS = 1000;

describePg('a replica whose LISTEN link silently stalls', () => {
  let a: TestServer;
  let b: TestServer;
  let proxy: TcpProxy;
  /** How far B's heartbeat clock is ahead of the real one. */
  let ahead = 0;

  beforeAll(async () => {
    const masterKey = randomBytes(32).toString('base64url');
    a = await startTestServer({ masterKey });
    const db = new URL(a.store.databaseUrl!);
    proxy = await startTcpProxy({ host: db.hostname, port: Number(db.port) });
    b = await startTestServer({
      store: a.store, masterKey, invalidationClock: () => Date.now() + ahead,
      env: { CERTUSORDO_PUBLIC_URL: a.url, CERTUSORDO_LISTEN_DATABASE_URL: throughProxy(a.store.databaseUrl!, proxy) },
    });
  });
  afterAll(async () => {
    proxy?.resume();
    await b?.close();
    await a?.close();
    await proxy?.close();
  });

  const stale = (e: InvalidationEvent) => e.kind === 'link' && !e.fresh;
  const deliversAgain = (e: InvalidationEvent, bus: InvalidationBus) => (e.kind === 'link' || e.kind === 'reset') && bus.healthy;

  /** B's link is back (the held heartbeats came through, or a new connection replaced the stalled one). */
  async function healB(): Promise<void> {
    const back = nextInvalidation(b, "B's link delivers again", deliversAgain);
    proxy.resume();
    if (!b.running.invalidations.healthy) await back;
  }

  /** A token B has answered active (so its state is in B's caches), and its revocation on A. */
  async function cachedOnB(): Promise<{ token: string; revoke: () => Promise<void> }> {
    const agent = await createAgent(a);
    const token = await getToken(a, agent);
    expect((await introspect(b.url, a.apiKey, token)).active).toBe(true);
    expect((await introspect(b.url, a.apiKey, token)).active).toBe(true);
    return { token, revoke: async () => void (await request(a.url).post('/v1/oauth/revoke').type('form').send({ token }).expect(200)) };
  }

  test('B\'s link goes through the proxy and delivers', async () => {
    expect(proxy.connections).toBeGreaterThan(0);
    const { token, revoke } = await cachedOnB();
    const jti = decodePayload(token).jti as string;
    const heard = nextInvalidation(b, 'B hears of the revocation through the proxy', (e) => e.kind === 'token' && e.jti === jti);
    await revoke();
    await heard;
    expect(await introspect(b.url, a.apiKey, token)).toEqual({ active: false });
  });

  test('a token revoked on A is refused by B one second later (B\'s clock), while nothing reaches B', async () => {
    const { token, revoke } = await cachedOnB();
    const jti = decodePayload(token).jti as string;
    const held = nextInvalidation(b, 'the held notification reaches B once the link heals', (e) => e.kind === 'token' && e.jti === jti);
    try {
      proxy.stall();
      await revoke();
      // A second passes on B: its newest proof that the link delivers is now too old.
      ahead += MAX_LAG_MS;
      expect(b.running.invalidations.healthy).toBe(false);
      expect(await introspect(b.url, a.apiKey, token)).toEqual({ active: false });
    } finally {
      await healB();
    }
    // Healed: nothing was lost on the way.
    await held;
    expect(await introspect(b.url, a.apiKey, token)).toEqual({ active: false });
  });

  test('B tells when its link goes stale (real time) and answers from the database from then on', async () => {
    const { token, revoke } = await cachedOnB();
    const wentStale = nextInvalidation(b, "B notices that its link no longer proves delivery", stale);
    try {
      proxy.stall();
      await revoke();
      await wentStale;
      expect(await introspect(b.url, a.apiKey, token)).toEqual({ active: false });
    } finally {
      await healB();
    }
    // Back to normal: a revocation on A reaches B through the link again.
    const next = await cachedOnB();
    const heard = nextInvalidation(b, 'B hears of the next revocation', (e) => e.kind === 'token');
    await next.revoke();
    await heard;
    expect(await introspect(b.url, a.apiKey, next.token)).toEqual({ active: false });
  });
});

if (testBackend() !== 'postgres') {
  test.skip('silent partition: PostgreSQL only (two replicas need a shared database)', () => undefined);
}
