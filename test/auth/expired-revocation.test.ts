/**
 * Revoking an expired but genuine token still ends the sessions it opened or renewed: a session
 * outlives its parent token (its own TTL, up to an hour), so an incident responder who revokes a
 * stolen token after it expired must still end what it opened. The server's clock is moved past
 * the tokens' expiry (Date only, forward only: timers and the database run as they do).
 */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { admin, createAgent, decodePayload, getToken, introspect } from './helpers';

let s: TestServer;
let operator: string;
beforeAll(async () => {
  jest.useFakeTimers({
    now: Date.now(), advanceTimers: true,
    doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
  });
  s = await startTestServer();
  operator = await s.createApiKey('operator');
});
afterAll(async () => {
  await s?.close();
  jest.useRealTimers();
});

const bearer = (token: string) => ({ post: (path: string, body: object = {}) => request(s.url).post(path).set('Authorization', `Bearer ${token}`).send(body) });
const revoke = (token: string, apiKey?: string) => {
  const r = request(s.url).post('/v1/oauth/revoke').type('form');
  return (apiKey ? r.set('Authorization', `Bearer ${apiKey}`) : r).send({ token });
};
const session = async (id: string) => (await admin(s).get(`/v1/sessions/${id}`)).body;

test('ends the sessions it opened or renewed (it was a silent no-op), audited as the revoker', async () => {
  const a = await createAgent(s, { scopes: ['payments:read'] });
  const opener = await getToken(s, a);
  const renewer = await getToken(s, a);
  const opened = (await bearer(opener).post('/v1/sessions', { scopes: ['payments:read'], ttl_seconds: 3600 }).expect(201)).body;
  const other = (await bearer(await getToken(s, a)).post('/v1/sessions', { scopes: ['payments:read'], ttl_seconds: 3600 }).expect(201)).body;
  expect((await bearer(renewer).post(`/v1/sessions/${other.id}/token`)).status).toBe(200);

  // Past both tokens' expiry; the sessions last an hour.
  jest.setSystemTime((decodePayload(renewer).exp as number) * 1000 + 1000);
  expect(await introspect(s.url, s.apiKey, opener)).toEqual({ active: false });
  expect(await session(opened.id)).toMatchObject({ status: 'active' });
  await revoke(opener).expect(200);
  await revoke(renewer, operator).expect(200);
  expect(await session(opened.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked' });
  expect(await session(other.id)).toMatchObject({ status: 'ended', end_reason: 'parent_token_revoked' });
  const ended = (await admin(s).get('/v1/audit-events?action=session.ended')).body.data as Array<{ target_id: string; actor_type: string; actor_id: string }>;
  expect(ended.find((e) => e.target_id === opened.id)).toMatchObject({ actor_type: 'agent', actor_id: a.id });
  expect(ended.find((e) => e.target_id === other.id)).toMatchObject({ actor_type: 'api_key' });
  // Once, like any revocation.
  await revoke(opener).expect(200);
  expect((await admin(s).get(`/v1/audit-events?action=token.revoked&agent_id=${a.id}`)).body.data.filter((e: { data: { jti: string } }) => e.data.jti === decodePayload(opener).jti)).toHaveLength(1);
});
