/**
 * What expired leaves memory at the next purge: verified tokens (a lookup refuses an expired token
 * anyway) and the states of expired sessions. Without the sweep the maps empty only at their
 * bounds, so a replica's resident memory follows the tokens and sessions it has ever seen, not the
 * live ones.
 */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { createAgent, getToken } from './helpers';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

test('expired tokens and sessions are swept from memory; live ones stay', async () => {
  const tokens = s.running.auth.tokens;
  const agent = await createAgent(s);
  const token = await getToken(s, agent);
  const opened = await request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ scopes: ['payments:read'], ttl_seconds: 60 });
  expect(opened.status).toBe(201);
  // The session's token is checked on an agent route: its signature is remembered, its session's state cached (where caches are trusted).
  expect((await request(s.url).get('/v1/sessions').set('Authorization', `Bearer ${opened.body.access_token}`)).status).toBe(200);
  const before = tokens.memorySizes();
  expect(before.verifiedTokens).toBeGreaterThanOrEqual(2);
  if (s.store.backend === 'postgres') expect(before.sessions).toBeGreaterThanOrEqual(1);

  tokens.sweepMemory(Date.now());
  expect(tokens.memorySizes()).toEqual(before); // nothing has expired yet

  tokens.sweepMemory(Date.now() + 3_600_000); // an hour on: the token, the session's token and the session have expired
  expect(tokens.memorySizes()).toEqual({ verifiedTokens: 0, sessions: 0 });
});
