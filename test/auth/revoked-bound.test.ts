/**
 * The revoked-token set filled by notifications is bounded. Any database role can NOTIFY on the
 * auth channel, so a flood of forged `token:` notifications (with expiries far in the future) must
 * neither grow the set past its bound nor outlive the longest token lifetime, and must not make a
 * genuine revocation be missed: over the bound, revocation checks read the database. Driven
 * against the server's real database and bus (PostgreSQL: real NOTIFYs from a database session;
 * PGlite: the in-process bus), with a small bound.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { createLogger } from '../../api/src/logger';
import { AuthState } from '../../api/src/tokens/state';
import { ACCESS_TOKEN_TTL_MAX_SECONDS } from '../../model/limits';
import { createAgent, decodePayload, getToken, nextInvalidation } from './helpers';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const BOUND = 20;
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** `n` forged revocations, as any database role (or a bug) could announce them, delivered to the bus. */
async function flood(n: number): Promise<void> {
  const tag = randomUUID();
  const last = `forged-${tag}-${n}`;
  const heard = nextInvalidation(s, 'the last forged notification', (e) => e.kind === 'token' && e.jti === last);
  const exp = Date.now() + 10 * YEAR_MS;
  if (s.running.db.backend === 'postgres') {
    await s.running.db.knex.raw(`select pg_notify('certusordo_auth', 'token:' || ? || ':forged-' || ? || '-' || g) from generate_series(1, ?) g`, [exp, tag, n]);
  } else {
    for (let i = 1; i <= n; i++) s.running.invalidations.publishLocal({ kind: 'token', jti: `forged-${tag}-${i}`, expiresAtMs: exp });
  }
  await heard;
}

test('a flood of forged revocations stays within the bound, and a genuine revocation is still seen (from the database)', async () => {
  const state = new AuthState(s.running.db.knex, s.running.invalidations, createLogger('silent'), { maxRevoked: BOUND });
  await state.start();
  expect(state.revokedComplete).toBe(true);

  await flood(BOUND * 5);
  expect(state.revokedHeld).toBeLessThanOrEqual(BOUND);
  expect(state.revokedComplete).toBe(false);

  // A genuine revocation after the flood: its notification finds the set full.
  const agent = await createAgent(s);
  const token = await getToken(s, agent);
  const jti = decodePayload(token).jti as string;
  const heard = nextInvalidation(s, 'the genuine revocation', (e) => e.kind === 'token' && e.jti === jti);
  await request(s.url).post('/v1/oauth/revoke').type('form').send({ token }).expect(200);
  await heard;
  expect(await state.isRevoked(jti)).toBe(true);
  expect(await state.isRevoked(randomUUID())).toBe(false);
  // The server's own set (default bound) saw the same flood: the token is refused there too.
  expect((await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${s.apiKey}`).type('form').send({ token })).body).toEqual({ active: false });

  // No forged entry outlives the longest token lifetime, whatever expiry it claimed; once swept,
  // the set is loaded whole again (with the genuine revocation) and answers from memory.
  state.sweep(Date.now() + (ACCESS_TOKEN_TTL_MAX_SECONDS + 121) * 1000);
  expect(state.revokedHeld).toBe(0);
  await state.start();
  expect(state.revokedComplete).toBe(true);
  expect(state.revokedHeld).toBe(1);
  expect(await state.isRevoked(jti)).toBe(true);
});
