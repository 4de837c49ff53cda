/**
 * MCP, end to end, with the official MCP TypeScript SDK on both sides, unmodified: the example
 * tool server (requireBearerAuth + mcpAuthMetadataRouter + `mcpTokenVerifier`) and the example agent
 * (stock `PrivateKeyJwtProvider`, the agent's Ed25519 key, alg `EdDSA` and `Ed25519`) against a real
 * control plane. Then what the server refuses, with the status and challenge RFC 6750 / RFC 9728
 * prescribe, and what `introspection` adds: a suspension or a revocation refuses the next call once
 * the verifier's cache (≤ 1 s, driven here by an injected clock) no longer holds the answer.
 * DPoP: an MCP transport behind requireAgentToken takes a bound token with its proof (the client
 * fetching through AgentCredentials), and refuses the token without one, as Bearer, or replayed.
 */
import { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { OAuthMetadataSchema, OAuthProtectedResourceMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import express from 'express';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AgentCredentials, requireAgentToken } from '@certusordo/sdk';
import { mcpTokenVerifier } from '@certusordo/sdk/mcp';
import { listenLocal } from '../support/local-app';
import { startTestServer, TestServer } from '../support/server';
import { mcpHandler, startToolServer, ToolServer } from '../../examples/mcp/server';
import { runAgent } from '../../examples/mcp/agent';
import { admin, createAgent, decodePayload, requestToken, TestAgent } from './helpers';

let s: TestServer;
let issuer: string;
let offline: ToolServer;
let confirmed: ToolServer;
let introspectorKey: string;
/** The introspection cache's clock (ms); the tests move it past the cache lifetime. */
let clock = 0;

beforeAll(async () => {
  s = await startTestServer();
  issuer = `${s.url}/orgs/${s.organizationId}`;
  introspectorKey = await s.createApiKey('introspector');
  clock = Date.now();
  offline = await startToolServer({ issuer, port: 0 });
  confirmed = await startToolServer({ issuer, port: 0, introspection: { apiKey: introspectorKey, now: () => clock } });
});
afterAll(async () => {
  await offline?.close();
  await confirmed?.close();
  await s?.close();
});

const toolAgent = (scopes = ['tools:read', 'tools:write']) => createAgent(s, { scopes });

async function tokenFor(agent: TestAgent, extra: Record<string, string>, server = s): Promise<string> {
  const res = await requestToken(server, agent, extra);
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

/** One MCP request (initialize) as a client would send it, with `authorization` as given. */
async function mcpCall(url: string, authorization?: string): Promise<{ status: number; challenge: string | null; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } }),
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
}

const metadataUrl = (server: ToolServer) => `${new URL(server.url).origin}/.well-known/oauth-protected-resource/mcp`;

describe.each([
  ['EdDSA', ['tools:read', 'tools:write']],
  ['Ed25519', ['tools:*']],
] as const)('the stock MCP client with PrivateKeyJwtProvider (alg %s, agent scopes %j)', (algorithm, scopes) => {
  test('discovers the issuer through the server, gets a token bound to it, and calls the tools as the agent', async () => {
    const agent = await toolAgent([...scopes]);
    const result = await runAgent({ serverUrl: offline.url, secret: agent.secret, issuer, algorithm });
    expect(result.tools.sort()).toEqual(['add', 'whoami']);
    expect(result.sum).toBe('5');
    expect(result.whoami).toEqual({ agentId: agent.id, organizationId: s.organizationId, scopes: ['tools:read'], resource: offline.url });
  });
});

test('the server publishes RFC 9728 metadata naming the organization issuer, whose RFC 8414 metadata the MCP SDK accepts', async () => {
  const doc = await (await fetch(metadataUrl(offline))).json();
  expect(doc).toMatchObject({ resource: offline.url, authorization_servers: [issuer], scopes_supported: ['tools:read'] });
  expect(OAuthProtectedResourceMetadataSchema.safeParse(doc).success).toBe(true);
  const asMetadata = await (await fetch(`${s.url}/.well-known/oauth-authorization-server/orgs/${s.organizationId}`)).json();
  expect(OAuthMetadataSchema.safeParse(asMetadata).error).toBeUndefined();
  const challenge = (await mcpCall(offline.url)).challenge;
  expect(challenge).toContain(`resource_metadata="${metadataUrl(offline)}"`);
});

describe('refusals: status and WWW-Authenticate', () => {
  const expectRefused = (r: { status: number; challenge: string | null; body: string }, status: number, error: string) => {
    expect([r.status, r.challenge]).toEqual([status, expect.stringContaining(`error="${error}"`)]);
    expect(r.challenge).toContain(`resource_metadata="${metadataUrl(offline)}"`);
    expect(JSON.parse(r.body)).toMatchObject({ error });
  };

  test('a token minted for another resource', async () => {
    const token = await tokenFor(await toolAgent(), { resource: 'https://elsewhere.example.com/mcp' });
    expectRefused(await mcpCall(offline.url, `Bearer ${token}`), 401, 'invalid_token');
  });

  test('a token without a resource (its audience is the issuer)', async () => {
    const token = await tokenFor(await toolAgent(), {});
    expect(decodePayload(token).aud).toBe(issuer);
    expectRefused(await mcpCall(offline.url, `Bearer ${token}`), 401, 'invalid_token');
  });

  test('a token without the required scope: 403 insufficient_scope naming it', async () => {
    const token = await tokenFor(await toolAgent(['tools:write']), { resource: offline.url });
    const r = await mcpCall(offline.url, `Bearer ${token}`);
    expectRefused(r, 403, 'insufficient_scope');
    expect(r.challenge).toContain('scope="tools:read"');
  });

  test("another organization's agent, with a token for this very resource", async () => {
    const other = await s.createOrganization('admin');
    const stranger = await createAgent(s, { scopes: ['tools:read'] }, other.apiKey);
    const token = await tokenFor(stranger, { resource: offline.url });
    expect(decodePayload(token).aud).toBe(offline.url);
    expectRefused(await mcpCall(offline.url, `Bearer ${token}`), 401, 'invalid_token');
  });

  test('garbage, a tampered token, and no token at all', async () => {
    const token = await tokenFor(await toolAgent(), { resource: offline.url });
    expect((await mcpCall(offline.url, `Bearer ${token}`)).status).toBe(200);
    for (const bad of ['garbage', 'a.b.c', `${token.slice(0, -4)}AAAA`]) expectRefused(await mcpCall(offline.url, `Bearer ${bad}`), 401, 'invalid_token');
    const none = await mcpCall(offline.url);
    expect(none.status).toBe(401);
    expect(none.challenge).toContain(`resource_metadata="${metadataUrl(offline)}"`);
  });
});

describe('introspection', () => {
  test('a suspended agent is refused on the next call once the cache (≤ 1 s) has passed; the token was fine before', async () => {
    const agent = await toolAgent();
    const token = await tokenFor(agent, { resource: confirmed.url, scope: 'tools:read' });
    expect((await mcpCall(confirmed.url, `Bearer ${token}`)).status).toBe(200);
    await admin(s).post(`/v1/agents/${agent.id}/suspend`).expect(200);
    clock += 1000;
    const r = await mcpCall(confirmed.url, `Bearer ${token}`);
    expect([r.status, r.challenge]).toEqual([401, expect.stringContaining('error="invalid_token"')]);
    expect(JSON.parse(r.body).error_description).toMatch(/no longer active/);
    // the offline server cannot know: the same agent's token for it still passes until expiry
    await admin(s).post(`/v1/agents/${agent.id}/activate`).expect(200);
    const offlineToken = await tokenFor(agent, { resource: offline.url });
    await admin(s).post(`/v1/agents/${agent.id}/suspend`).expect(200);
    expect((await mcpCall(offline.url, `Bearer ${offlineToken}`)).status).toBe(200);
  });

  test('a revoked token is refused on the next call past the cache', async () => {
    const token = await tokenFor(await toolAgent(), { resource: confirmed.url });
    expect((await mcpCall(confirmed.url, `Bearer ${token}`)).status).toBe(200);
    await admin(s).post('/v1/oauth/revoke').type('form').send({ token }).expect(200);
    clock += 1000;
    expect((await mcpCall(confirmed.url, `Bearer ${token}`)).status).toBe(401);
  });

  test('when the control plane cannot be reached the token is refused, never accepted', async () => {
    const token = await tokenFor(await toolAgent(), { resource: confirmed.url });
    const unreachable = mcpTokenVerifier({
      issuer, resource: confirmed.url,
      introspection: { apiKey: introspectorKey, fetch: async () => { throw new TypeError('fetch failed: connect ECONNREFUSED'); } },
    });
    await expect(unreachable.verifyAccessToken(token)).rejects.toBeInstanceOf(ServerError);
    const answering = mcpTokenVerifier({ issuer, resource: confirmed.url, introspection: { apiKey: introspectorKey } });
    const info = await answering.verifyAccessToken(token);
    expect(info).toMatchObject({ token, scopes: ['tools:read', 'tools:write'], resource: new URL(confirmed.url), extra: { organizationId: s.organizationId, sessionId: undefined, delegation: undefined } });
    expect(info.expiresAt).toBe(decodePayload(token).exp);
    // an API key of another organization makes every token inactive: refused
    const foreign = mcpTokenVerifier({ issuer, resource: confirmed.url, introspection: { apiKey: (await s.createOrganization('introspector')).apiKey } });
    await expect(foreign.verifyAccessToken(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});

test("an MCP transport behind the kit's own middleware (requireAgentToken): tools see the agent in authInfo", async () => {
  const app = express();
  const local = await listenLocal(app);
  const url = `${local.origin}/mcp`;
  app.post('/mcp', requireAgentToken({ issuer, resource: url, scopes: ['tools:read'] }), express.json(), mcpHandler);
  try {
    const agent = await toolAgent(['tools:*']);
    const token = await tokenFor(agent, { resource: url, scope: 'tools:read' });
    const client = new Client({ name: 'static-token', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    await client.close();
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    expect(JSON.parse(text)).toEqual({ agentId: agent.id, organizationId: s.organizationId, scopes: ['tools:read'], resource: url });
    const refused = await mcpCall(url, `Bearer ${await tokenFor(agent, { resource: offline.url })}`);
    expect([refused.status, refused.challenge]).toEqual([401, expect.stringContaining('error="invalid_token"')]);
  } finally {
    await local.close();
  }
});

test('a DPoP-bound token through an MCP transport behind requireAgentToken: the official client, fetching with AgentCredentials (dpop: true), calls a tool; the same token without a proof, as Bearer, or replayed, is refused', async () => {
  const app = express();
  const local = await listenLocal(app);
  const url = `${local.origin}/mcp`;
  app.post('/mcp', requireAgentToken({ issuer, resource: url, scopes: ['tools:read'], requireDpop: true }), express.json(), mcpHandler);
  try {
    const agent = await toolAgent(['tools:read']);
    const creds = AgentCredentials.fromSecret(agent.secret, { baseUrl: s.url, dpop: true });
    // Every request the transport sends gets a fresh proof for its own method and URL.
    const viaCreds = async (input: string | URL, init?: RequestInit): Promise<Response> => {
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      const body = typeof init?.body === 'string' ? init.body : undefined;
      return (await creds.fetch(input.toString(), { method: init?.method, headers, body, signal: init?.signal ?? undefined, resource: url })) as unknown as Response;
    };
    const client = new Client({ name: 'dpop-agent', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: viaCreds }));
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    await client.close();
    expect(JSON.parse((result.content as Array<{ text: string }>)[0]!.text)).toEqual({ agentId: agent.id, organizationId: s.organizationId, scopes: ['tools:read'], resource: url });

    const headers = await creds.authHeaders('POST', url, { resource: url });
    const token = headers.authorization!.replace(/^DPoP /, '');
    const send = async (h: Record<string, string>) => {
      const res = await fetch(url, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...h },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } }),
      });
      await res.text();
      return [res.status, res.headers.get('www-authenticate')?.match(/^DPoP error="([a-z_]+)"/)?.[1]];
    };
    expect(await send({ authorization: `DPoP ${token}` })).toEqual([401, 'invalid_dpop_proof']);
    expect(await send({ authorization: `Bearer ${token}` })).toEqual([401, 'invalid_token']);
    expect((await send(headers))[0]).toBe(200);
    expect(await send(headers)).toEqual([401, 'invalid_dpop_proof']);
    // the stock requireBearerAuth path (mcpTokenVerifier) sees no proof: a bound token is refused there
    await expect(mcpTokenVerifier({ issuer, resource: url }).verifyAccessToken(token)).rejects.toBeInstanceOf(InvalidTokenError);
  } finally {
    await local.close();
  }
});
