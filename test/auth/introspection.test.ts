/** Introspection (RFC 7662) and revocation (RFC 7009): instant invalidation, exact issue-time semantics, isolation. */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { admin, ASSERTION_TYPE, assertion, createAgent, decodePayload, getToken, introspect } from './helpers';

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => s?.close());

const revoke = (body: Record<string, string>, auth?: string) => {
  const r = request(s.url).post('/v1/oauth/revoke').type('form');
  return (auth ? r.set('Authorization', `Bearer ${auth}`) : r).send(body);
};

test('an active token introspects with its claims; garbage and unknown tokens are inactive', async () => {
  const a = await createAgent(s, { scopes: ['payments:read'] });
  const token = await getToken(s, a);
  const res = await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${s.apiKey}`).type('form').send({ token, token_type_hint: 'access_token' });
  expect(res.status).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
  const claims = decodePayload(token);
  expect(res.body).toEqual({
    active: true, token_type: 'Bearer', iss: `${s.url}/orgs/${s.organizationId}`, sub: a.id, aud: `${s.url}/orgs/${s.organizationId}`, client_id: a.id, scope: 'payments:read',
    jti: claims.jti, iat: claims.iat, exp: claims.exp, org_id: s.organizationId,
  });
  // JSON works as well
  const json = await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${s.apiKey}`).send({ token });
  expect(json.body.active).toBe(true);
  for (const bad of ['nope', `${token}x`, token.replace(/\.[^.]+$/, '.' + 'A'.repeat(86)), 'a.b.c']) {
    expect(await introspect(s.url, s.apiKey, bad)).toEqual({ active: false });
  }
});

test('introspection needs an API key (introspector or reader is enough) and a token parameter', async () => {
  const a = await createAgent(s);
  const token = await getToken(s, a);
  const reader = await s.createApiKey('reader');
  expect((await introspect(s.url, reader, token)).active).toBe(true);
  const anon = await request(s.url).post('/v1/oauth/introspect').type('form').send({ token });
  expect(anon.status).toBe(401);
  expect(anon.body.error).toBe('invalid_client');
  expect(anon.headers['www-authenticate']).toMatch(/^Bearer /);
  const bad = await request(s.url).post('/v1/oauth/introspect').set('Authorization', 'Bearer aa_' + 'x'.repeat(43)).type('form').send({ token });
  expect(bad.status).toBe(401);
  // an agent token is not a credential for introspection
  const agentAuth = await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${token}`).type('form').send({ token });
  expect(agentAuth.status).toBe(403);
  const missing = await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${s.apiKey}`).type('form').send({});
  expect(missing.status).toBe(400);
  expect(missing.body.error).toBe('invalid_request');
});

test('an introspector key introspects and reads nothing else of the organization', async () => {
  const a = await createAgent(s, { scopes: ['tools:read'] });
  const token = await getToken(s, a);
  const created = await admin(s).post('/v1/api-keys', { name: 'mcp-server', role: 'introspector' });
  expect(created.status).toBe(201);
  expect(created.body.role).toBe('introspector');
  const key: string = created.body.key;
  expect((await introspect(s.url, key, token)).active).toBe(true);
  const as = (method: 'get' | 'post', path: string) => request(s.url)[method](path).set('Authorization', `Bearer ${key}`);
  for (const path of ['/v1/agents', `/v1/agents/${a.id}`, `/v1/agents/${a.id}/keys`, '/v1/audit-events', '/v1/audit-events/verify', '/v1/audit-events/checkpoint', '/v1/sessions', '/v1/signing-keys', '/v1/api-keys']) {
    const res = await as('get', path);
    expect([path, res.status]).toEqual([path, 403]);
    expect(res.body.error.message).toMatch(/needs the (reader|admin) role; the key has introspector/);
  }
  for (const path of [`/v1/agents/${a.id}/suspend`, '/v1/api-keys']) expect((await as('post', path).send({})).status).toBe(403);
  const revoke = await as('post', '/v1/oauth/revoke').type('form').send({ token });
  expect(revoke.status).toBe(403);
  // the refusals changed nothing: the agent is active and its token still introspects as active
  expect((await admin(s).get(`/v1/agents/${a.id}`)).body.status).toBe('active');
  expect((await introspect(s.url, key, token)).active).toBe(true);
  // another organization's introspector sees this organization's tokens as inactive
  const other = await s.createOrganization('introspector');
  expect(await introspect(s.url, other.apiKey, token)).toEqual({ active: false });
});

test('suspend → inactive at once; activate → tokens issued before stay inactive, new ones are active', async () => {
  const a = await createAgent(s);
  const before = await getToken(s, a);
  expect((await introspect(s.url, s.apiKey, before)).active).toBe(true);
  await admin(s).post(`/v1/agents/${a.id}/suspend`).expect(200);
  expect(await introspect(s.url, s.apiKey, before)).toEqual({ active: false });
  await admin(s).post(`/v1/agents/${a.id}/activate`).expect(200);
  expect(await introspect(s.url, s.apiKey, before)).toEqual({ active: false });
  // Issued right after reactivation (same second, most likely): active — issue time is exact to the ms.
  const after = await getToken(s, a);
  expect((await introspect(s.url, s.apiKey, after)).active).toBe(true);
  // Sub-second cycles: each token issued after the latest activation is valid, each before is not.
  for (let i = 0; i < 5; i++) {
    const t1 = await getToken(s, a);
    await admin(s).post(`/v1/agents/${a.id}/suspend`).expect(200);
    await admin(s).post(`/v1/agents/${a.id}/activate`).expect(200);
    const t2 = await getToken(s, a);
    expect([(await introspect(s.url, s.apiKey, t1)).active, (await introspect(s.url, s.apiKey, t2)).active]).toEqual([false, true]);
  }
  expect((await introspect(s.url, s.apiKey, before)).active).toBe(false);
});

test('revoke the agent → every token inactive, forever', async () => {
  const a = await createAgent(s);
  const tokens = [await getToken(s, a), await getToken(s, a, 'payments:read')];
  await admin(s).post(`/v1/agents/${a.id}/revoke`).expect(200);
  for (const t of tokens) expect(await introspect(s.url, s.apiKey, t)).toEqual({ active: false });
  expect((await admin(s).post(`/v1/agents/${a.id}/activate`)).status).toBe(409);
  for (const t of tokens) expect(await introspect(s.url, s.apiKey, t)).toEqual({ active: false });
});

test('RFC 7009: the agent revokes its own token (with or without presenting a credential)', async () => {
  const a = await createAgent(s);
  const t1 = await getToken(s, a);
  const t2 = await getToken(s, a);
  const t3 = await getToken(s, a);
  // the token itself is the proof
  const r1 = await revoke({ token: t1 });
  expect(r1.status).toBe(200);
  expect(r1.headers['cache-control']).toBe('no-store');
  expect(await introspect(s.url, s.apiKey, t1)).toEqual({ active: false });
  // the agent authenticates with another of its tokens
  expect((await revoke({ token: t2, token_type_hint: 'access_token' }, t3)).status).toBe(200);
  expect(await introspect(s.url, s.apiKey, t2)).toEqual({ active: false });
  expect((await introspect(s.url, s.apiKey, t3)).active).toBe(true);
  // revoking twice, garbage, or another agent's token with my token: 200, no effect on others
  expect((await revoke({ token: t1 })).status).toBe(200);
  expect((await revoke({ token: 'garbage' })).status).toBe(200);
  const b = await createAgent(s);
  const tb = await getToken(s, b);
  expect((await revoke({ token: tb }, t3)).status).toBe(200);
  expect((await introspect(s.url, s.apiKey, tb)).active).toBe(true);
  expect((await revoke({})).body.error).toBe('invalid_request');
  const events = (await admin(s).get(`/v1/audit-events?agent_id=${a.id}&action=token.revoked`)).body.data;
  expect(events).toHaveLength(2);
  expect(events[0]).toMatchObject({ actor_type: 'agent', actor_id: a.id, data: { jti: decodePayload(t1).jti } });
});

test('RFC 7009 with an API key: operator or admin of the token\'s organization', async () => {
  const a = await createAgent(s);
  const t = await getToken(s, a);
  const reader = await s.createApiKey('reader');
  expect((await revoke({ token: t }, reader)).status).toBe(403);
  expect((await introspect(s.url, s.apiKey, t)).active).toBe(true);
  const operator = await s.createApiKey('operator');
  expect((await revoke({ token: t }, operator)).status).toBe(200);
  expect(await introspect(s.url, s.apiKey, t)).toEqual({ active: false });
  expect((await revoke({ token: t }, 'aa_' + 'y'.repeat(43))).status).toBe(401);
});

test('cross-organization: another org sees the token as inactive and cannot revoke it', async () => {
  const a = await createAgent(s);
  const t = await getToken(s, a);
  const other = await s.createOrganization('admin');
  expect(await introspect(s.url, other.apiKey, t)).toEqual({ active: false });
  expect((await revoke({ token: t }, other.apiKey)).status).toBe(200);
  expect((await introspect(s.url, s.apiKey, t)).active).toBe(true);
  // and the other org's agents' tokens are inactive here
  const b = await createAgent(s, {}, other.apiKey);
  const tb = await getToken(s, b);
  expect((await introspect(s.url, other.apiKey, tb)).active).toBe(true);
  expect(await introspect(s.url, s.apiKey, tb)).toEqual({ active: false });
});

test('a token minted for resources introspects with its aud as issued; another organization still sees it inactive', async () => {
  const a = await createAgent(s);
  const resources = ['https://payments.example.com/api', 'https://ledger.example.com'];
  const body = new URLSearchParams([['grant_type', 'client_credentials'], ['client_assertion_type', ASSERTION_TYPE], ['client_assertion', await assertion(s, a)], ...resources.map((r): [string, string] => ['resource', r])]);
  const token = (await request(s.url).post('/v1/oauth/token').type('form').send(body.toString()).expect(200)).body.access_token;
  expect(await introspect(s.url, s.apiKey, token)).toMatchObject({ active: true, iss: `${s.url}/orgs/${s.organizationId}`, aud: resources, org_id: s.organizationId });
  const other = await s.createOrganization('admin');
  expect(await introspect(s.url, other.apiKey, token)).toEqual({ active: false });
});

test('tokens survive a restart of the control plane (keys and revocations are in the database)', async () => {
  const masterKey = Buffer.alloc(32, 7).toString('base64url');
  const first = await startTestServer({ masterKey });
  const a = await createAgent(first);
  const live = await getToken(first, a);
  const dead = await getToken(first, a);
  await request(first.url).post('/v1/oauth/revoke').type('form').send({ token: dead }).expect(200);
  const { store, apiKey } = first;
  await first.close();
  const second = await startTestServer({ store, masterKey, env: { CERTUSORDO_PUBLIC_URL: first.url } });
  try {
    expect((await introspect(second.url, apiKey, live)).active).toBe(true);
    expect(await introspect(second.url, apiKey, dead)).toEqual({ active: false });
  } finally {
    await second.close();
  }
});
