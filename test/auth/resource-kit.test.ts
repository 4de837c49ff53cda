/**
 * The resource-server kit for any HTTP API: `requireAgentToken` in a real Express app and the RFC
 * 9728 document, against a real control plane. Accepted: this organization's agent, a token for
 * this resource, with the scope. Refused with RFC 6750 errors and a challenge pointing to the
 * metadata: another resource, no resource, a missing scope (named), another organization, garbage,
 * a DPoP-bound presentation. With introspection: a suspension refuses the next call past the cache,
 * an unreachable control plane refuses (503), and the cache stays bounded.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  IntrospectionGate, protectedResourceMetadata, protectedResourceMetadataUrl, requireAgentToken,
  type AgentAuthInfo, type AgentTokenRequest, type RequireAgentTokenOptions,
} from '@certusordo/sdk';
import { startTestServer, TestServer } from '../support/server';
import { admin, createAgent, requestToken, TestAgent } from './helpers';

let s: TestServer;
let issuer: string;
let clock = 0;
const servers: Server[] = [];

beforeAll(async () => {
  s = await startTestServer();
  issuer = `${s.url}/orgs/${s.organizationId}`;
  clock = Date.now();
});
afterAll(async () => {
  for (const h of servers) {
    h.closeAllConnections();
    await new Promise((r) => h.close(r));
  }
  await s?.close();
});

/** A reports API on a free port: GET /reports needs `reports:read`; its RFC 9728 document is served. */
async function reportsApi(extra: Partial<RequireAgentTokenOptions> = {}): Promise<string> {
  const app = express();
  const http = await new Promise<Server>((resolve) => {
    const h = app.listen(0, '127.0.0.1', () => resolve(h));
  });
  servers.push(http);
  const resource = `http://127.0.0.1:${(http.address() as AddressInfo).port}/reports`;
  app.get(new URL(protectedResourceMetadataUrl(resource)).pathname, (_req, res) => {
    res.json(protectedResourceMetadata({ issuer, resource, scopesSupported: ['reports:read'] }));
  });
  app.get('/reports', requireAgentToken({ issuer, resource, scopes: ['reports:read'], ...extra } as RequireAgentTokenOptions), (req, res) => {
    const { agent, auth } = req as unknown as AgentTokenRequest & { auth: AgentAuthInfo };
    res.json({ agent: agent!.agentId, org: agent!.organizationId, clientId: auth.clientId, resource: auth.resource.href });
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
    expect(doc).toEqual({ resource: api, authorization_servers: [issuer], bearer_methods_supported: ['header'], scopes_supported: ['reports:read'] });
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

  test('a DPoP presentation is refused by name (this kit takes bearer tokens only, for now)', async () => {
    const token = await tokenFor(await createAgent(s, { scopes: ['reports:read'] }), { resource: api });
    const r = await get(api, `DPoP ${token}`);
    expect([r.status, r.body.error]).toEqual([400, 'invalid_request']);
    expect(r.body.error_description).toMatch(/DPoP/);
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
    for (const [i, t] of tokens.entries()) expect(await gate.check(t, `k${i}`)).toEqual({ ok: true, active: true });
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
