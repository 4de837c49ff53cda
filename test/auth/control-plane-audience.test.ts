/**
 * The control plane's own routes accept an agent's token only when it was minted for the control
 * plane: its audience includes the organization's issuer or the public URL. A token minted for a
 * relying service (RFC 8707 `resource`) is that service's: it cannot open sessions, list them or
 * revoke tokens here, while introspection and revoking it by itself keep working.
 */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { ASSERTION_TYPE, assertion, createAgent, decodePayload, introspect, TestAgent } from './helpers';

let s: TestServer;
let agent: TestAgent;
let issuer: string;
beforeAll(async () => {
  s = await startTestServer();
  agent = await createAgent(s, { scopes: ['payments:read'] });
});
afterAll(async () => s?.close());

async function tokenFor(...resources: string[]): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, agent) });
  for (const r of resources) form.append('resource', r);
  const res = await request(s.url).post('/v1/oauth/token').type('form').send(form.toString());
  expect(res.status).toBe(200);
  return res.body.access_token;
}

const bearer = (token: string) => ({
  post: (path: string, body: object = {}) => request(s.url).post(path).set('Authorization', `Bearer ${token}`).send(body),
  get: (path: string) => request(s.url).get(path).set('Authorization', `Bearer ${token}`),
  revoke: (target: string) => request(s.url).post('/v1/oauth/revoke').set('Authorization', `Bearer ${token}`).type('form').send({ token: target }),
});

function expectWrongAudience(res: request.Response) {
  expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 401, code: 'unauthenticated' });
  expect(res.body.error.details).toEqual([{ path: 'authorization', message: 'wrong_audience' }]);
}

test('a token minted for a relying service opens no session, lists none and revokes nothing here', async () => {
  const tool = await tokenFor('https://tool.example');
  expect(decodePayload(tool).aud).toBe('https://tool.example');
  expectWrongAudience(await bearer(tool).post('/v1/sessions', { scopes: ['payments:read'] }));
  expectWrongAudience(await bearer(tool).get('/v1/sessions'));
  expect((await s.running.db.knex('sessions').where({ agent_id: agent.id })).length).toBe(0);

  const victim = await tokenFor();
  const revoke = await bearer(tool).revoke(victim);
  expect(revoke.status).toBe(401);
  expect(revoke.body.error).toBe('invalid_client');
  expect((await introspect(s.url, s.apiKey, victim)).active).toBe(true);
  // The relying service's own checks are untouched: introspection answers for the token.
  expect(await introspect(s.url, s.apiKey, tool)).toMatchObject({ active: true, aud: 'https://tool.example' });
});

test('the token is still its own proof: revoking it without credentials works', async () => {
  const tool = await tokenFor('https://tool.example');
  expect((await request(s.url).post('/v1/oauth/revoke').type('form').send({ token: tool })).status).toBe(200);
  expect((await introspect(s.url, s.apiKey, tool)).active).toBe(false);
});

test('the issuer, the public URL, or either among several audiences is the control plane', async () => {
  issuer = decodePayload(await tokenFor()).iss as string;
  const publicUrl = s.config.publicUrl ?? s.url;
  for (const token of [await tokenFor(), await tokenFor(issuer), await tokenFor(publicUrl), await tokenFor(`${publicUrl}/`), await tokenFor('https://tool.example', issuer)]) {
    const opened = await bearer(token).post('/v1/sessions', { scopes: ['payments:read'], ttl_seconds: 60 });
    expect(opened.status).toBe(201);
    const own = await tokenFor();
    expect((await bearer(token).revoke(own)).status).toBe(200);
    expect((await introspect(s.url, s.apiKey, own)).active).toBe(false);
  }
});
