/** POST /v1/oauth/token: client credentials with private_key_jwt — success and every refusal. */
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { generateEd25519 } from '../../api/src/crypto/ed25519';
import { admin, ASSERTION_TYPE, assertion, createAgent, decodeHeader, decodePayload, requestToken, TestAgent, tokenRequest } from './helpers';

let s: TestServer;
let agent: TestAgent;
beforeAll(async () => {
  s = await startTestServer();
  agent = await createAgent(s, { scopes: ['payments:read', 'payments:write', 'reports:*'] });
});
afterAll(async () => s?.close());

/** The organization's issuer, and its JWKS as any relying service fetches it. */
const issuer = (orgId = s.organizationId) => `${s.url}/orgs/${orgId}`;
const fetchJwks = async (orgId = s.organizationId) => {
  const res = await request(s.url).get(`/orgs/${orgId}/.well-known/jwks.json`);
  expect(res.status).toBe(200);
  return res.body;
};

const auditEvents = async (agentId: string, action: string) =>
  (await admin(s).get(`/v1/audit-events?agent_id=${agentId}&action=${action}&limit=500`)).body.data as Array<Record<string, unknown>>;

function expectOAuthError(res: request.Response, status: number, error: string) {
  expect({ status: res.status, error: res.body.error }).toEqual({ status, error });
  expect(typeof res.body.error_description).toBe('string');
  expect(Object.keys(res.body).sort()).toEqual(['error', 'error_description']);
  expect(res.headers['cache-control']).toBe('no-store');
  if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
}

describe('issuing', () => {
  test('a jose-built assertion gets an RFC 9068 access token (form-encoded)', async () => {
    const before = Date.now();
    const res = await requestToken(s, agent);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'payments:read payments:write reports:*' });

    // Verifiable by any JOSE library against the organization's JWKS, with the usual issuer and audience checks.
    const jwks = await fetchJwks();
    const { payload, protectedHeader } = await jwtVerify(res.body.access_token, createLocalJWKSet(jwks), { issuer: issuer(), audience: issuer(), typ: 'at+jwt', algorithms: ['EdDSA'] });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: jwks.keys[0].kid });
    expect(payload).toEqual({
      iss: issuer(), sub: agent.id, aud: issuer(), client_id: agent.id, scope: 'payments:read payments:write reports:*',
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/), iat: expect.any(Number), iat_ms: expect.any(Number), exp: expect.any(Number), org_id: s.organizationId,
    });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.iat_ms as number).toBeGreaterThanOrEqual(before);
    expect(Math.floor((payload.iat_ms as number) / 1000)).toBe(payload.iat);

    const a = (await admin(s).get(`/v1/agents/${agent.id}`)).body;
    expect(new Date(a.last_auth_at).getTime()).toBeGreaterThanOrEqual(before - 5);
    const events = await auditEvents(agent.id, 'agent.authenticated');
    const e = events.find((x) => (x.data as { token_jti: string }).token_jti === payload.jti)!;
    expect(e).toMatchObject({ actor_type: 'agent', actor_id: agent.id, outcome: 'success', target_id: agent.id });
    expect(JSON.stringify(events)).not.toContain(res.body.access_token.split('.')[2]);
    expect((await admin(s).get('/v1/audit-events/verify')).body.valid).toBe(true);
  });

  test('JSON bodies work too, and scope narrows (wildcards cover their resource)', async () => {
    const res = await request(s.url).post('/v1/oauth/token').send({
      grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, agent), scope: 'payments:read reports:daily',
    });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('payments:read reports:daily');
    expect(decodePayload(res.body.access_token).scope).toBe('payments:read reports:daily');
  });

  test('kid selects the key; without kid every active key is tried', async () => {
    const keys = (await admin(s).get(`/v1/agents/${agent.id}/keys`)).body.data;
    expect((await requestToken(s, agent, {}, { kid: keys[0].kid })).status).toBe(200);
    expect((await requestToken(s, agent, {}, { kid: null })).status).toBe(200);
    expectOAuthError(await requestToken(s, agent, {}, { kid: 'not-a-key-of-this-agent' }), 401, 'invalid_client');
  });

  test('aud may also be the server, the agent\'s organization issuer, or an array containing the token endpoint', async () => {
    expect((await requestToken(s, agent, {}, { aud: s.url })).status).toBe(200);
    expect((await requestToken(s, agent, {}, { aud: issuer() })).status).toBe(200);
    expect((await requestToken(s, agent, {}, { aud: ['https://other.example', `${s.url}/v1/oauth/token`] })).status).toBe(200);
    expect((await requestToken(s, agent, {}, { aud: ['https://other.example', issuer()] })).status).toBe(200);
  });

  test('another organization\'s issuer as aud is refused exactly like an unknown agent (after the signature check)', async () => {
    const other = await s.createOrganization('admin');
    const wrong = await requestToken(s, agent, {}, { aud: issuer(other.organizationId) });
    const unknown = await requestToken(s, { ...agent, id: randomUUID() }, {}, { aud: issuer(other.organizationId) });
    for (const r of [wrong, unknown]) expectOAuthError(r, 401, 'invalid_client');
    expect(wrong.body).toEqual(unknown.body);
    // A valid signature with the wrong organization is attributed and audited as such.
    await s.running.settleAuthAudit();
    expect((await auditEvents(agent.id, 'agent.authentication_failed')).some((e) => e.reason === 'wrong_audience')).toBe(true);
    // The other organization's own agents may name it.
    const theirs = await createAgent(s, {}, other.apiKey);
    expect((await requestToken(s, theirs, {}, { aud: issuer(other.organizationId) })).status).toBe(200);
  });

  test('RFC 9864: an assertion signed with alg "Ed25519" is accepted like "EdDSA"; other names are not', async () => {
    const res = await requestToken(s, agent, {}, { alg: 'Ed25519' });
    expect(res.status).toBe(200);
    expect(decodePayload(res.body.access_token).sub).toBe(agent.id);
    // Built by hand (no library signs with these names): the right Ed25519 signature, another alg name.
    const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: agent.seed.toString('base64url'), x: agent.publicKey }, format: 'jwk' });
    const now = Math.floor(Date.now() / 1000);
    for (const alg of ['ed25519', 'Ed448', 'ES256']) {
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const input = `${b64({ alg, typ: 'JWT' })}.${b64({ iss: agent.id, sub: agent.id, aud: `${s.url}/v1/oauth/token`, jti: randomUUID(), iat: now, exp: now + 60 })}`;
      const jws = `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
      expectOAuthError(await tokenRequest(s, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: jws }), 401, 'invalid_client');
    }
  });

  test('concurrent issuance for agents of several organizations keeps every audit chain intact', async () => {
    const other = await s.createOrganization('admin');
    const mine = await Promise.all([1, 2, 3].map(() => createAgent(s)));
    const theirs = await Promise.all([1, 2, 3].map(() => createAgent(s, {}, other.apiKey)));
    const all = [...mine, ...theirs];
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => requestToken(s, all[i % all.length]!)));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    for (const key of [s.apiKey, other.apiKey]) expect((await admin(s, key).get('/v1/audit-events/verify')).body.valid).toBe(true);
    const theirEvents = (await admin(s, other.apiKey).get('/v1/audit-events?action=agent.authenticated&limit=500')).body.data;
    expect(theirEvents).toHaveLength(30);
    expect(new Set(theirEvents.map((e: { target_id: string }) => e.target_id))).toEqual(new Set(theirs.map((a) => a.id)));
  });

  test('the SDK-style client_id parameter must match the assertion', async () => {
    expect((await requestToken(s, agent, { client_id: agent.id })).status).toBe(200);
    expectOAuthError(await requestToken(s, agent, { client_id: randomUUID() }), 401, 'invalid_client');
  });
});

describe('refusals', () => {
  test('malformed requests: invalid_request / unsupported_grant_type', async () => {
    const a = await assertion(s, agent);
    expectOAuthError(await tokenRequest(s, { client_assertion_type: ASSERTION_TYPE, client_assertion: a }), 400, 'invalid_request');
    expectOAuthError(await tokenRequest(s, { grant_type: 'password', client_assertion_type: ASSERTION_TYPE, client_assertion: a }), 400, 'unsupported_grant_type');
    expectOAuthError(await tokenRequest(s, { grant_type: 'client_credentials' }), 400, 'invalid_request');
    expectOAuthError(await tokenRequest(s, { grant_type: 'client_credentials', client_assertion_type: 'urn:other', client_assertion: a }), 400, 'invalid_request');
    const dup = await request(s.url).post('/v1/oauth/token').type('form')
      .send(`grant_type=client_credentials&grant_type=client_credentials&client_assertion_type=${encodeURIComponent(ASSERTION_TYPE)}&client_assertion=${a}`);
    expectOAuthError(dup, 400, 'invalid_request');
    expectOAuthError(await request(s.url).post('/v1/oauth/token').set('Content-Type', 'text/plain').send('hello'), 415, 'invalid_request');
    expectOAuthError(await request(s.url).post('/v1/oauth/token').set('Content-Type', 'application/json').send('{bad json'), 400, 'invalid_request');
    expectOAuthError(await tokenRequest(s, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: 'not.a.jwt' }), 401, 'invalid_client');
  });

  test('a key that is not the agent\'s, or a bad signature, is refused exactly like an unknown agent', async () => {
    const other = generateEd25519();
    const wrongKey = await requestToken(s, agent, {}, { seed: other.seed, publicKey: other.publicKey.toString('base64url') });
    const tampered = (await assertion(s, agent)).replace(/\.([^.]+)$/, (_m, sig: string) => `.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`);
    const badSig = await tokenRequest(s, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: tampered });
    const ghost = { ...agent, id: randomUUID() };
    const unknown = await requestToken(s, ghost);
    for (const r of [wrongKey, badSig, unknown]) expectOAuthError(r, 401, 'invalid_client');
    expect(new Set([wrongKey.body, badSig.body, unknown.body].map((b) => JSON.stringify(b))).size).toBe(1);

    // Known agent: audited as a failure (without the assertion); unknown agent: only logged. The
    // second bad_signature within the coalescing window is counted, not written (limits.test.ts).
    await s.running.settleAuthAudit();
    expect((await auditEvents(agent.id, 'agent.authentication_failed')).some((e) => e.reason === 'bad_signature')).toBe(true);
    const failures = await auditEvents(agent.id, 'agent.authentication_failed');
    expect(failures[0]).toMatchObject({ outcome: 'failure', actor_type: 'agent', target_id: agent.id });
    expect(JSON.stringify(failures)).not.toContain(tampered.split('.')[2]!.slice(0, 20));
    expect((await admin(s).get(`/v1/audit-events?agent_id=${ghost.id}`)).body.data).toEqual([]);
  });

  test('expired, future, too long-lived, wrong audience, wrong issuer, wrong algorithm', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Parameters<typeof requestToken>[3]]> = [
      ['expired', { iat: now - 120, exp: now - 60 }],
      ['issued in the future', { iat: now + 120, exp: now + 180 }],
      ['exp more than 5 minutes ahead', { exp: now + 600 }],
      ['wrong audience', { aud: 'https://elsewhere.example/v1/oauth/token' }],
      ['iss differs from sub', { iss: randomUUID() }],
    ];
    for (const [name, o] of cases) {
      const res = await requestToken(s, agent, {}, o);
      expect([name, res.status, res.body.error]).toEqual([name, 401, 'invalid_client']);
    }
    const hs = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'HS256' }).setIssuer(agent.id).setSubject(agent.id)
      .setAudience(`${s.url}/v1/oauth/token`).setIssuedAt().setExpirationTime('1m').sign(new Uint8Array(32));
    expectOAuthError(await tokenRequest(s, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: hs }), 401, 'invalid_client');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: agent.id, sub: agent.id })).toString('base64url')}.`;
    expectOAuthError(await tokenRequest(s, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: none }), 401, 'invalid_client');
  });

  test('a jti is single use', async () => {
    const a = await assertion(s, agent);
    const form = { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: a };
    expect((await tokenRequest(s, form)).status).toBe(200);
    const replay = await tokenRequest(s, form);
    expectOAuthError(replay, 401, 'invalid_client');
    expect(replay.body.error_description).toMatch(/already used/);
    // Concurrent replays of one fresh assertion: exactly one wins.
    const b = await assertion(s, agent);
    const results = await Promise.all(Array.from({ length: 10 }, () => tokenRequest(s, { ...form, client_assertion: b })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    // The losers are refused: invalid_client, or slow_down once this agent's failure budget (spent
    // by the refusals above) is used up.
    const refused = (r: (typeof results)[number]) => (r.status === 401 && r.body.error === 'invalid_client') || (r.status === 429 && r.body.error === 'slow_down');
    expect(results.filter(refused)).toHaveLength(9);
    await s.running.settleAuthAudit();
    expect((await auditEvents(agent.id, 'agent.authentication_failed')).some((e) => e.reason === 'assertion_replayed')).toBe(true);
  });

  test('a scope outside the agent\'s is invalid_scope', async () => {
    expectOAuthError(await requestToken(s, agent, { scope: 'payments:read admin:delete' }), 400, 'invalid_scope');
    expectOAuthError(await requestToken(s, agent, { scope: 'payments:*' }), 400, 'invalid_scope');
    expectOAuthError(await requestToken(s, agent, { scope: 'NOT A SCOPE' }), 400, 'invalid_scope');
  });

  test('a wildcard covers no more than the scope rules allow: a 201-character scope, 101 scopes or a 4 KB list is invalid_scope and issues nothing', async () => {
    const wild = await createAgent(s, { scopes: ['payments:*'] });
    const many = (n: number, width: number) => Array.from({ length: n }, (_, i) => `payments:${String(i).padStart(width - 9, 'a')}`).join(' ');
    expect((await requestToken(s, wild, { scope: `payments:${'a'.repeat(191)}` })).status).toBe(200); // 200 characters: the longest
    expect((await requestToken(s, wild, { scope: many(100, 20) })).status).toBe(200);
    await s.running.settleAuthAudit();
    const issued = (await auditEvents(wild.id, 'agent.authenticated')).length;
    expect(issued).toBe(2);
    for (const scope of [`payments:${'a'.repeat(192)}`, many(101, 12), many(30, 200)]) {
      const r = await requestToken(s, wild, { scope });
      expectOAuthError(r, 400, 'invalid_scope');
      expect(r.body.error_description.length).toBeLessThan(200);
    }
    await s.running.settleAuthAudit();
    expect(await auditEvents(wild.id, 'agent.authenticated')).toHaveLength(issued);
  });

  test('scope changes apply to the very next token request (credentials are never served stale)', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    expect((await requestToken(s, a, { scope: 'payments:read' })).status).toBe(200); // warms any cache
    await admin(s).patch(`/v1/agents/${a.id}`, { scopes: ['payments:read', 'ledger:write'] }).expect(200);
    expect((await requestToken(s, a, { scope: 'ledger:write' })).status).toBe(200);
    await admin(s).patch(`/v1/agents/${a.id}`, { scopes: ['ledger:write'] }).expect(200);
    expectOAuthError(await requestToken(s, a, { scope: 'payments:read' }), 400, 'invalid_scope');
    expect((await requestToken(s, a)).body.scope).toBe('ledger:write');
  });

  test('suspended and revoked agents get no token (invalid_grant); reactivated ones do', async () => {
    const a = await createAgent(s);
    await admin(s).post(`/v1/agents/${a.id}/suspend`).expect(200);
    const suspended = await requestToken(s, a);
    expectOAuthError(suspended, 400, 'invalid_grant');
    expect(suspended.body.error_description).toMatch(/suspended/);
    await admin(s).post(`/v1/agents/${a.id}/activate`).expect(200);
    expect((await requestToken(s, a)).status).toBe(200);
    await admin(s).post(`/v1/agents/${a.id}/revoke`).expect(200);
    expectOAuthError(await requestToken(s, a), 400, 'invalid_grant');
    await s.running.settleAuthAudit();
    expect((await auditEvents(a.id, 'agent.authentication_failed')).some((e) => e.reason === 'agent_revoked')).toBe(true);
  });

  test('repeated failures are throttled per client address (429 slow_down with Retry-After)', async () => {
    const local = await startTestServer();
    try {
      const ghost = { ...agent, id: randomUUID() };
      let throttled: request.Response | undefined;
      for (let i = 0; i < 120 && !throttled; i++) {
        const r = await requestToken(local, { ...ghost, id: randomUUID() });
        if (r.status === 429) throttled = r;
        else expect(r.status).toBe(401);
      }
      expect(throttled).toBeDefined();
      expect(throttled!.body.error).toBe('slow_down');
      expect(Number(throttled!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      await local.close();
    }
  });

  test('repeated failures are throttled per agent, which keeps others unaffected', async () => {
    const local = await startTestServer();
    try {
      const victim = await createAgent(local);
      const bystander = await createAgent(local);
      const other = generateEd25519();
      let throttled = false;
      for (let i = 0; i < 60 && !throttled; i++) {
        const r = await requestToken(local, victim, {}, { seed: other.seed, publicKey: other.publicKey.toString('base64url') });
        throttled = r.status === 429;
      }
      expect(throttled).toBe(true);
      // Failures never lock the agent out: with its key it still gets its token; another agent is fine.
      expect((await requestToken(local, victim)).status).toBe(200);
      expect((await requestToken(local, bystander)).status).toBe(200);
    } finally {
      await local.close();
    }
  });
});

describe('organization-bound tokens', () => {
  test('a token of organization A fails jose jwtVerify with B\'s JWKS and issuer, and passes with A\'s', async () => {
    const other = await s.createOrganization('admin');
    const theirs = await createAgent(s, {}, other.apiKey);
    const tokenA = (await requestToken(s, agent)).body.access_token as string;
    const tokenB = (await requestToken(s, theirs)).body.access_token as string;
    const [jwksA, jwksB] = [await fetchJwks(), await fetchJwks(other.organizationId)];
    const [setA, setB] = [createLocalJWKSet(jwksA), createLocalJWKSet(jwksB)];
    const [issA, issB] = [issuer(), issuer(other.organizationId)];

    // The relying service of B, configured the usual way (its issuer's JWKS, iss and aud), refuses A's token ...
    await expect(jwtVerify(tokenA, setB, { issuer: issB, audience: issB, typ: 'at+jwt' })).rejects.toThrow();
    // ... and each check alone is enough: B's keys do not verify it, and A's keys do not make it B's.
    await expect(jwtVerify(tokenA, setB, { issuer: issA })).rejects.toThrow();
    await expect(jwtVerify(tokenA, setA, { issuer: issB })).rejects.toThrow();
    await expect(jwtVerify(tokenA, setA, { audience: issB })).rejects.toThrow();
    // A's relying service accepts it, B's its own.
    expect((await jwtVerify(tokenA, setA, { issuer: issA, audience: issA, typ: 'at+jwt' })).payload.org_id).toBe(s.organizationId);
    expect((await jwtVerify(tokenB, setB, { issuer: issB, audience: issB, typ: 'at+jwt' })).payload.org_id).toBe(other.organizationId);
    // Two organizations, two key sets with nothing in common.
    const kids = (j: { keys: { kid: string }[] }) => j.keys.map((k) => k.kid);
    expect(decodeHeader(tokenA).kid).not.toBe(decodeHeader(tokenB).kid);
    expect(kids(jwksA).filter((k) => kids(jwksB).includes(k))).toEqual([]);
  });

  test('a session token keeps its parent\'s organization issuer and audience (the control plane and a relying service)', async () => {
    const resource = 'https://payments.example.com/api';
    // The parent must name the control plane among its audiences to open a session there.
    const body = new URLSearchParams([['grant_type', 'client_credentials'], ['client_assertion_type', ASSERTION_TYPE], ['client_assertion', await assertion(s, agent)],
      ['resource', resource], ['resource', issuer()], ['scope', 'payments:read']]);
    const parent = (await request(s.url).post('/v1/oauth/token').type('form').send(body.toString())).body.access_token as string;
    const session = await request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${parent}`).send({ scopes: ['payments:read'] });
    expect(session.status).toBe(201);
    const { payload } = await jwtVerify(session.body.access_token, createLocalJWKSet(await fetchJwks()), { issuer: issuer(), audience: resource, typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: issuer(), aud: [resource, issuer()], sid: session.body.id, org_id: s.organizationId });
  });
});

describe('resource indicators (RFC 8707)', () => {
  const form = async (pairs: Array<[string, string]>) => {
    const body = new URLSearchParams([['grant_type', 'client_credentials'], ['client_assertion_type', ASSERTION_TYPE], ['client_assertion', await assertion(s, agent)], ...pairs]);
    return request(s.url).post('/v1/oauth/token').type('form').send(body.toString());
  };

  test('one resource becomes the token\'s aud (a string); a relying service can require it', async () => {
    const resource = 'https://payments.example.com/api';
    const res = await requestToken(s, agent, { resource });
    expect(res.status).toBe(200);
    const jwks = createLocalJWKSet(await fetchJwks());
    const { payload } = await jwtVerify(res.body.access_token, jwks, { issuer: issuer(), audience: resource, typ: 'at+jwt' });
    expect(payload.aud).toBe(resource);
    await expect(jwtVerify(res.body.access_token, jwks, { issuer: issuer(), audience: 'https://ledger.example.com/api' })).rejects.toThrow();
    // Without resource the audience is the issuer; with it, it is not.
    await expect(jwtVerify(res.body.access_token, jwks, { issuer: issuer(), audience: issuer() })).rejects.toThrow();
    const audit = await auditEvents(agent.id, 'agent.authenticated');
    expect(audit.find((e) => (e.data as { token_jti: string }).token_jti === payload.jti)?.data).toMatchObject({ resource: [resource] });
  });

  test('a token signed with the organization\'s key but living longer than any token it signs, or issued in the future, is not active', async () => {
    const res = await requestToken(s, agent);
    expect(res.status).toBe(200);
    const claims = decodePayload(res.body.access_token) as Record<string, unknown> & { iat: number; exp: number };
    const tokens = s.running.auth.tokens;
    const introspect = async (token: string) =>
      (await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${s.apiKey}`).type('form').send({ token })).body.active;
    const resign = (extra: Record<string, unknown>) => tokens.sign({ ...claims, jti: randomUUID(), ...extra } as unknown as Parameters<typeof tokens.sign>[0]);
    expect(await introspect(await resign({}))).toBe(true); // re-signing itself changes nothing
    expect(await introspect(await resign({ exp: claims.iat + 3601 }))).toBe(false);
    expect(await introspect(await resign({ iat: claims.iat + 600, iat_ms: (claims.iat + 600) * 1000, exp: claims.iat + 900 }))).toBe(false);
  });

  test('repeated resources (form repeats or a JSON array) become an array aud, duplicates dropped; introspection returns it', async () => {
    const [r1, r2] = ['https://payments.example.com/api', 'urn:example:ledger'];
    const res = await form([['resource', r1], ['resource', r2], ['resource', r1], ['scope', 'payments:read']]);
    expect(res.status).toBe(200);
    expect(decodePayload(res.body.access_token).aud).toEqual([r1, r2]);
    const intro = await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${s.apiKey}`).type('form').send({ token: res.body.access_token });
    expect(intro.body).toMatchObject({ active: true, aud: [r1, r2], iss: issuer() });
    const json = await request(s.url).post('/v1/oauth/token').send({
      grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, agent), resource: [r2],
    });
    expect(json.status).toBe(200);
    expect(decodePayload(json.body.access_token).aud).toBe(r2);
    // Ten values, each up to 2048 characters, are accepted.
    const ten = Array.from({ length: 10 }, (_, i) => `https://svc${i}.example/${'p'.repeat(i === 0 ? 2048 - 'https://svc0.example/'.length : 1)}`);
    const max = await form(ten.map((r) => ['resource', r] as [string, string]));
    expect(max.status).toBe(200);
    expect(decodePayload(max.body.access_token).aud).toEqual(ten);
  });

  test('an invalid resource is invalid_target (400); other parameters still may not repeat', async () => {
    const bad: Array<[string, Array<[string, string]>]> = [
      ['relative', [['resource', 'payments']]],
      ['path only', [['resource', '/v1/payments']]],
      ['fragment', [['resource', 'https://payments.example.com/api#frag']]],
      ['space', [['resource', 'https://payments.example.com/a b']]],
      ['non-ASCII', [['resource', 'https://paiements.exemple.fr/é']]],
      ['empty', [['resource', '']]],
      ['too long', [['resource', `https://payments.example.com/${'x'.repeat(2048)}`]]],
      ['too many', Array.from({ length: 11 }, (_, i) => ['resource', `https://svc${i}.example`] as [string, string])],
      ['one bad among good', [['resource', 'https://payments.example.com'], ['resource', 'not a uri']]],
    ];
    for (const [name, pairs] of bad) {
      const res = await form(pairs);
      expect([name, res.status, res.body.error]).toEqual([name, 400, 'invalid_target']);
      expect(Object.keys(res.body).sort()).toEqual(['error', 'error_description']);
    }
    const json = await request(s.url).post('/v1/oauth/token').send({
      grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, agent), resource: 42,
    });
    expectOAuthError(json, 400, 'invalid_target');
    expectOAuthError(await form([['resource', 'https://payments.example.com'], ['scope', 'payments:read'], ['scope', 'payments:read']]), 400, 'invalid_request');
  });
});

describe('discovery', () => {
  test('per-organization RFC 8414 metadata (path-inserted well-known URL) and JWKS', async () => {
    const md = await request(s.url).get(`/.well-known/oauth-authorization-server/orgs/${s.organizationId}`);
    expect(md.status).toBe(200);
    expect(md.body).toMatchObject({
      issuer: issuer(),
      authorization_endpoint: `${s.url}/v1/oauth/authorize`,
      response_types_supported: [],
      token_endpoint: `${s.url}/v1/oauth/token`,
      jwks_uri: `${issuer()}/.well-known/jwks.json`,
      introspection_endpoint: `${s.url}/v1/oauth/introspect`,
      revocation_endpoint: `${s.url}/v1/oauth/revoke`,
      grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      // Agents' own assertions are Ed25519; workloads' platform tokens (federation) also RSA and P-256.
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'],
    });
    const jwks = await request(s.url).get(new URL(md.body.jwks_uri).pathname);
    expect(jwks.status).toBe(200);
    expect(jwks.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
    expect(jwks.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of jwks.body.keys) {
      expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      expect(k).toMatchObject({ kty: 'OKP', crv: 'Ed25519', use: 'sig', alg: 'EdDSA' });
    }
    const token = (await requestToken(s, agent)).body.access_token;
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(decodeHeader(token).kid);
  });

  test('a new organization has a key before its first token; each organization its own metadata', async () => {
    const other = await s.createOrganization('admin');
    const md = (await request(s.url).get(`/.well-known/oauth-authorization-server/orgs/${other.organizationId}`)).body;
    expect(md.issuer).toBe(issuer(other.organizationId));
    expect(md.jwks_uri).toBe(`${issuer(other.organizationId)}/.well-known/jwks.json`);
    const keys = (await fetchJwks(other.organizationId)).keys;
    expect(keys).toHaveLength(1);
    const theirs = await createAgent(s, {}, other.apiKey);
    expect(decodeHeader((await requestToken(s, theirs)).body.access_token).kid).toBe(keys[0].kid);
  });

  test('the server root is no issuer: its well-known URLs answer 404 pointing to the per-organization ones; unknown organizations 404', async () => {
    const md = await request(s.url).get('/.well-known/oauth-authorization-server');
    expect(md.status).toBe(404);
    expect(md.body.error.code).toBe('not_found');
    expect(md.body.error.message).toContain(`${s.url}/.well-known/oauth-authorization-server/orgs/{org_id}`);
    const jwks = await request(s.url).get('/.well-known/jwks.json');
    expect(jwks.status).toBe(404);
    expect(jwks.body.error.message).toContain(`${s.url}/orgs/{org_id}/.well-known/jwks.json`);
    for (const id of [randomUUID(), 'not-an-org', s.organizationId.toUpperCase()]) {
      expect((await request(s.url).get(`/.well-known/oauth-authorization-server/orgs/${id}`)).status).toBe(404);
      expect((await request(s.url).get(`/orgs/${id}/.well-known/jwks.json`)).status).toBe(404);
    }
  });

  test('the advertised authorization endpoint answers unsupported_response_type directly: no redirect, whatever the query', async () => {
    const md = (await request(s.url).get(`/.well-known/oauth-authorization-server/orgs/${s.organizationId}`)).body;
    const path = new URL(md.authorization_endpoint).pathname;
    for (const query of ['', '?response_type=code&client_id=x&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=s&code_challenge=c&code_challenge_method=S256', '?response_type=token&redirect_uri=https://evil.example/']) {
      const res = await request(s.url).get(`${path}${query}`).redirects(0);
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error: 'unsupported_response_type', error_description: expect.stringContaining('client credentials grant with private_key_jwt') });
      expect(JSON.stringify(res.body)).not.toContain('evil.example');
    }
  });

  test('the OpenAPI document lists the auth endpoints', async () => {
    const doc = (await request(s.url).get('/v1/openapi.json')).body;
    for (const p of ['/v1/oauth/token', '/v1/oauth/authorize', '/v1/oauth/introspect', '/v1/oauth/revoke', '/v1/sessions', '/v1/sessions/{id}', '/v1/sessions/{id}/operations', '/v1/signing-keys/rotate',
      '/orgs/{org_id}/.well-known/jwks.json', '/.well-known/oauth-authorization-server/orgs/{org_id}']) {
      expect(doc.paths[p]).toBeDefined();
    }
  });
});
