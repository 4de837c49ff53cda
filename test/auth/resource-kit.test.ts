/**
 * The resource-server kit for any HTTP API: `requireAgentToken` in a real Express app and the RFC
 * 9728 document, against a real control plane. Accepted: this organization's agent, a token for
 * this resource, with the scope. Refused with RFC 6750 errors and a challenge pointing to the
 * metadata: another resource, no resource, a missing scope (named), another organization, garbage.
 * DPoP: a bound token from AgentCredentials passes with its proof; without one, as Bearer, with a
 * proof for another URL, method or key, or a replayed proof, it is refused with the DPoP challenge. With introspection: a suspension, or a scope taken from the agent, refuses the next call past the cache,
 * an unreachable control plane refuses (503), and the cache stays bounded.
 */
import express from 'express';
import {
  AgentCredentials, dpopJwkThumbprint, dpopKeyFromSeed, IntrospectionGate, protectedResourceMetadata, protectedResourceMetadataUrl, requireAgentToken,
  type AgentAuthInfo, type AgentTokenRequest, type RequireAgentTokenOptions,
} from '@certusordo/sdk';
import { listenLocal, LocalApp } from '../support/local-app';
import { startTestServer, TestServer } from '../support/server';
import { admin, createAgent, requestToken, TestAgent } from './helpers';

let s: TestServer;
let issuer: string;
let clock = 0;
const apps: LocalApp[] = [];

beforeAll(async () => {
  s = await startTestServer();
  issuer = `${s.url}/orgs/${s.organizationId}`;
  clock = Date.now();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await s?.close();
});

/** A reports API on a free port: GET /reports needs `reports:read`; its RFC 9728 document is served. */
async function reportsApi(extra: Partial<RequireAgentTokenOptions> = {}): Promise<string> {
  const app = express();
  const local = await listenLocal(app);
  apps.push(local);
  const resource = `${local.origin}/reports`;
  app.get(new URL(protectedResourceMetadataUrl(resource)).pathname, (_req, res) => {
    res.json(protectedResourceMetadata({ issuer, resource, scopesSupported: ['reports:read'] }));
  });
  app.get('/reports', requireAgentToken({ issuer, resource, scopes: ['reports:read'], ...extra } as RequireAgentTokenOptions), (req, res) => {
    const { agent, auth } = req as unknown as AgentTokenRequest & { auth: AgentAuthInfo };
    res.json({ agent: agent!.agentId, org: agent!.organizationId, clientId: auth.clientId, resource: auth.resource.href, dpopKey: agent!.dpop?.jkt, actors: agent!.actors, actor: agent!.actor });
  });
  return resource;
}

async function tokenFor(agent: TestAgent, extra: Record<string, string>): Promise<string> {
  const res = await requestToken(s, agent, extra);
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

async function get(url: string, authorization?: string) {
  const res = await fetch(url, { headers: authorization ? { authorization } : {} });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
}

describe('offline', () => {
  let api: string;
  beforeAll(async () => {
    api = await reportsApi();
  });
  const challengeOf = () => `resource_metadata="${protectedResourceMetadataUrl(api)}"`;

  test('the RFC 9728 document names the organization issuer; an agent token for this resource with the scope passes', async () => {
    const doc = await (await fetch(protectedResourceMetadataUrl(api))).json();
    expect(doc).toEqual({
      resource: api, authorization_servers: [issuer], bearer_methods_supported: ['header'], scopes_supported: ['reports:read'],
      dpop_signing_alg_values_supported: ['EdDSA', 'Ed25519', 'ES256'],
    });
    const agent = await createAgent(s, { scopes: ['reports:read'] });
    const wildcard = await createAgent(s, { scopes: ['reports:*'] });
    expect((await get(api, `Bearer ${await tokenFor(wildcard, { resource: api })}`)).status).toBe(200);
    // one trailing slash aside, the resource is the same
    for (const resource of [api, `${api}/`]) {
      const ok = await get(api, `Bearer ${await tokenFor(agent, { resource })}`);
      expect(ok).toMatchObject({ status: 200, body: { agent: agent.id, org: s.organizationId, clientId: agent.id, resource: api } });
    }
  });

  test.each([
    ['another resource', { resource: 'https://elsewhere.example.com/reports' }],
    ['no resource', {}],
  ])('a token for %s: 401 invalid_token', async (_what, extra: Record<string, string>) => {
    const r = await get(api, `Bearer ${await tokenFor(await createAgent(s, { scopes: ['reports:read'] }), extra)}`);
    expect(r.status).toBe(401);
    expect(r.challenge).toBe(`Bearer error="invalid_token", error_description="The token was not issued for this resource: request it with resource=<this server's URL>", ${challengeOf()}`);
    expect(r.body.error).toBe('invalid_token');
  });

  test('a missing scope: 403 insufficient_scope naming the scope', async () => {
    const token = await tokenFor(await createAgent(s, { scopes: ['reports:write'] }), { resource: api });
    const r = await get(api, `Bearer ${token}`);
    expect(r.status).toBe(403);
    expect(r.challenge).toBe(`Bearer error="insufficient_scope", error_description="The token lacks the scope this request needs: reports:read", scope="reports:read", ${challengeOf()}`);
    expect(JSON.stringify(r)).not.toContain(token);
  });

  test("another organization's token for this resource, garbage, no token, another scheme", async () => {
    const other = await s.createOrganization('admin');
    const stranger = await createAgent(s, { scopes: ['reports:read'] }, other.apiKey);
    const foreign = await get(api, `Bearer ${await tokenFor(stranger, { resource: api })}`);
    expect([foreign.status, foreign.body.error]).toEqual([401, 'invalid_token']);
    for (const bad of ['Bearer garbage', 'Bearer a.b.c']) expect((await get(api, bad)).status).toBe(401);
    const none = await get(api);
    expect(none).toMatchObject({ status: 401, challenge: `Bearer ${challengeOf()}` });
    for (const [header, status] of [['Basic dXNlcjpwYXNz', 400], ['Bearer', 400], ['Bearer a b', 400]] as const) {
      const r = await get(api, header);
      expect([header, r.status, r.body.error]).toEqual([header, status, 'invalid_request']);
    }
  });

});

describe('DPoP (RFC 9449)', () => {
  let api: string;
  let strict: string;
  let agent: TestAgent;
  let creds: AgentCredentials;
  beforeAll(async () => {
    api = await reportsApi();
    strict = await reportsApi({ requireDpop: true });
    agent = await createAgent(s, { scopes: ['reports:read'] });
    creds = AgentCredentials.fromSecret(agent.secret, { baseUrl: s.url, dpop: true });
  });
  const dpopChallenge = (error: string, description: string, url = api) =>
    `DPoP error="${error}", error_description="${description}", resource_metadata="${protectedResourceMetadataUrl(url)}", algs="EdDSA Ed25519 ES256"`;

  /** A request to `url` with these headers, answered as the client sees it. */
  async function call(url: string, headers: Record<string, string>, method = 'GET') {
    const res = await fetch(url, { method, headers });
    return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as Record<string, unknown> };
  }

  test('a DPoP-bound token from AgentCredentials (dpop: true, creds.fetch) passes, query strings aside', async () => {
    const jkt = await dpopJwkThumbprint(await dpopKeyFromSeed(agent.seed));
    for (const url of [api, `${api}?from=2026`]) {
      const res = await creds.fetch(url, { resource: api });
      expect({ status: res.status, body: JSON.parse(await res.text()) }).toEqual({ status: 200, body: { agent: agent.id, org: s.organizationId, clientId: agent.id, resource: api, dpopKey: jkt, actors: [], actor: agent.id } });
    }
    const strictRes = await creds.fetch(strict, { resource: strict });
    await strictRes.text();
    expect(strictRes.status).toBe(200);
  });

  test('the same token without a proof, as Bearer, with a proof for another URL or method, or a replayed proof: 401 with the DPoP challenge', async () => {
    const headers = await creds.authHeaders('GET', api, { resource: api });
    const token = headers.authorization!.replace(/^DPoP /, '');
    const refusals: Array<[string, Record<string, string>, string]> = [
      ['no proof', { authorization: `DPoP ${token}` }, 'GET'],
      ['another URL', { authorization: `DPoP ${token}`, dpop: (await creds.authHeaders('GET', `${api}/elsewhere`, { resource: api })).dpop! }, 'GET'],
      ['another method', { authorization: `DPoP ${token}`, dpop: (await creds.authHeaders('POST', api, { resource: api })).dpop! }, 'GET'],
      ['garbage proof', { authorization: `DPoP ${token}`, dpop: 'a.b.c' }, 'GET'],
    ];
    for (const [what, h, method] of refusals) {
      const r = await call(api, h, method);
      expect([what, r.status, r.body.error, r.challenge]).toEqual([what, 401, 'invalid_dpop_proof', expect.stringMatching(/^DPoP error="invalid_dpop_proof", .*algs="EdDSA Ed25519 ES256"$/)]);
      expect(JSON.stringify(r)).not.toContain(token);
    }
    const asBearer = await call(api, { authorization: `Bearer ${token}` });
    expect(asBearer).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    expect(asBearer.challenge).toBe(dpopChallenge('invalid_token', 'This access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof header'));
    // the genuine proof passes once; its replay is refused
    expect((await call(api, headers)).status).toBe(200);
    const replayed = await call(api, headers);
    expect([replayed.status, replayed.challenge]).toEqual([401, dpopChallenge('invalid_dpop_proof', 'The DPoP proof was already used (jti replay); make a new proof for each request')]);
    // another agent's key cannot present it
    const thief = AgentCredentials.fromSecret((await createAgent(s, { scopes: ['reports:read'] })).secret, { baseUrl: s.url, dpop: true });
    const stolen = await call(api, await thief.authHeaders('GET', api, { accessToken: token }));
    expect([stolen.status, stolen.body.error_description]).toEqual([401, 'The DPoP proof is not signed with the key this token is bound to']);
  });

  test('a bearer token sent as DPoP is refused; requireDpop refuses bearer tokens and the RFC 9728 document says so', async () => {
    const bearer = await tokenFor(await createAgent(s, { scopes: ['reports:read'] }), { resource: strict });
    const asDpop = await call(strict, { authorization: `DPoP ${bearer}`, dpop: 'a.b.c' });
    expect([asDpop.status, asDpop.body.error]).toEqual([401, 'invalid_token']);
    const r = await call(strict, { authorization: `Bearer ${bearer}` });
    expect([r.status, r.challenge]).toEqual([401, dpopChallenge('invalid_token', 'This resource requires DPoP-bound tokens: request the token with a DPoP proof', strict)]);
    const none = await call(strict, {});
    expect([none.status, none.challenge]).toEqual([401, `DPoP resource_metadata="${protectedResourceMetadataUrl(strict)}", algs="EdDSA Ed25519 ES256"`]);
    expect(protectedResourceMetadata({ issuer, resource: strict, requireDpop: true })).toMatchObject({ dpop_bound_access_tokens_required: true, dpop_signing_alg_values_supported: ['EdDSA', 'Ed25519', 'ES256'] });
  });

  test('behind a proxy: proofs name publicUrl, not the address the server listens on', async () => {
    const inside = await reportsApi({ publicUrl: 'https://reports.example.com' });
    const outside = `https://reports.example.com${new URL(inside).pathname}`;
    const h = await creds.authHeaders('GET', outside, { resource: inside });
    expect((await call(inside, h)).status).toBe(200);
    const direct = await call(inside, await creds.authHeaders('GET', inside, { resource: inside }));
    expect([direct.status, direct.body.error]).toEqual([401, 'invalid_dpop_proof']);
  });
});

describe('delegated tokens (RFC 8693)', () => {
  test('the subject and its actors are typed fields; maxDelegationDepth 0 refuses delegated tokens, and the agent\'s own token still passes', async () => {
    const anyDepth = await reportsApi();
    const direct = await reportsApi({ maxDelegationDepth: 0 });
    const subject = await createAgent(s, { scopes: ['reports:read'] });
    const actor = await createAgent(s, { scopes: ['reports:read'] });
    await admin(s).patch(`/v1/agents/${subject.id}`, { may_act: [actor.id] }).expect(200);
    const own = await tokenFor(subject, { resource: anyDepth });
    const exchanged = async (resource: string) => tokenFor(actor, {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: await tokenFor(subject, {}),
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', resource,
    });
    const delegated = await get(`${anyDepth}`, `Bearer ${await exchanged(anyDepth)}`);
    expect(delegated.status).toBe(200);
    expect(delegated.body).toMatchObject({ agent: subject.id, clientId: subject.id, actors: [actor.id], actor: actor.id });
    expect((await get(anyDepth, `Bearer ${own}`)).body).toMatchObject({ agent: subject.id, actors: [], actor: subject.id });
    const refused = await get(direct, `Bearer ${await exchanged(direct)}`);
    expect(refused.status).toBe(401);
    expect(refused.challenge).toMatch(/error="invalid_token"/);
    expect((await get(direct, `Bearer ${await tokenFor(subject, { resource: direct })}`)).status).toBe(200);
  });
});

describe('with introspection', () => {
  test('a suspension refuses the next call once the cached answer (≤ 1 s) is gone', async () => {
    const api = await reportsApi({ introspection: { apiKey: await s.createApiKey('introspector'), now: () => clock } });
    const agent = await createAgent(s, { scopes: ['reports:read'] });
    const token = await tokenFor(agent, { resource: api });
    expect((await get(api, `Bearer ${token}`)).status).toBe(200);
    await admin(s).post(`/v1/agents/${agent.id}/suspend`).expect(200);
    clock += 1000;
    const r = await get(api, `Bearer ${token}`);
    expect([r.status, r.body.error]).toEqual([401, 'invalid_token']);
    expect(r.body.error_description).toMatch(/no longer active/);
  });

  test('a scope removed from the agent, or narrowed from its wildcard, is gone from its live token at the next call past the cache', async () => {
    const api = await reportsApi({ introspection: { apiKey: await s.createApiKey('introspector'), now: () => clock } });
    const agent = await createAgent(s, { scopes: ['reports:read', 'ledger:read'] });
    const token = await tokenFor(agent, { resource: api });
    expect((await get(api, `Bearer ${token}`)).status).toBe(200);
    await admin(s).patch(`/v1/agents/${agent.id}`, { scopes: ['ledger:read'] }).expect(200);
    expect((await get(api, `Bearer ${token}`)).status).toBe(200); // the cached answer, for its TTL
    clock += 1000;
    const r = await get(api, `Bearer ${token}`);
    expect([r.status, r.body.error, r.challenge]).toEqual([403, 'insufficient_scope', expect.stringMatching(/scope="reports:read"/)]);

    const wide = await createAgent(s, { scopes: ['reports:*'] });
    const wideToken = await tokenFor(wide, { resource: api });
    await admin(s).patch(`/v1/agents/${wide.id}`, { scopes: ['reports:list'] }).expect(200);
    clock += 1000;
    expect((await get(api, `Bearer ${wideToken}`)).status).toBe(403);
    await admin(s).patch(`/v1/agents/${wide.id}`, { scopes: ['reports:*'] }).expect(200);
    clock += 1000;
    expect((await get(api, `Bearer ${wideToken}`)).status).toBe(200); // granted again: never more than the token was signed with
  });

  test('an unreachable control plane refuses with 503 and Retry-After, and the answer is not remembered', async () => {
    let reachable = false;
    const api = await reportsApi({
      introspection: {
        apiKey: await s.createApiKey('introspector'), now: () => clock,
        fetch: (input, init) => (reachable ? fetch(input as string, init as RequestInit) : Promise.reject(new TypeError('fetch failed'))),
      },
    });
    const token = await tokenFor(await createAgent(s, { scopes: ['reports:read'] }), { resource: api });
    const r = await get(api, `Bearer ${token}`);
    expect(r).toMatchObject({ status: 503, challenge: null, retryAfter: '1', body: { error: 'temporarily_unavailable' } });
    reachable = true;
    expect((await get(api, `Bearer ${token}`)).status).toBe(200);
  });

  test('the cache holds at most maxCacheEntries answers, each for its TTL', async () => {
    let asked = 0;
    const gate = new IntrospectionGate(s.url, { apiKey: await s.createApiKey('introspector') }, {
      maxCacheEntries: 2, now: () => clock,
      fetch: (input, init) => {
        asked++;
        return fetch(input as string, init as RequestInit);
      },
    });
    const agent = await createAgent(s, { scopes: ['reports:read'] });
    const tokens = [await tokenFor(agent, {}), await tokenFor(agent, {}), await tokenFor(agent, {})];
    for (const [i, t] of tokens.entries()) expect(await gate.check(t, `k${i}`)).toEqual({ ok: true, active: true, scopes: ['reports:read'] });
    expect(gate.size).toBe(2);
    expect(asked).toBe(3);
    await gate.check(tokens[2]!, 'k2');
    expect(asked).toBe(3);
    clock += 1000;
    await gate.check(tokens[2]!, 'k2');
    expect(asked).toBe(4);
    expect(() => new IntrospectionGate(s.url, { apiKey: 'aa_x' }, { cacheTtlMs: 5000 })).toThrow(/cacheTtlMs/);
  });
});
