/**
 * DPoP server nonces at a resource server (RFC 9449 §9): `requireAgentToken({ dpopNonce })` in a
 * real Express app, tokens from a real control plane, the resource server's clock stepped by the
 * test. A proof without the nonce, with a nonce of another secret or one two windows old is refused
 * 401 `use_dpop_nonce` with a fresh `DPoP-Nonce`; with it the call passes; a replica given the same
 * secret accepts it; `AgentCredentials.fetch` retries once and remembers the nonce per origin.
 */
import express from 'express';
import {
  AgentCredentials, createDpopProof, dpopKeyFromSeed, hmacDpopNonces, protectedResourceMetadataUrl, requireAgentToken,
  type AgentTokenRequest, type DpopNonceSource, type RequireAgentTokenOptions,
} from '@certusordo/sdk';
import { listenLocal, LocalApp } from '../support/local-app';
import { startTestServer, TestServer } from '../support/server';
import { createAgent, TestAgent } from './helpers';

const SECRET = 'a shared nonce secret, 32 bytes or more, for every replica';
const WINDOW_S = 20;

let s: TestServer;
let issuer: string;
/** The resource servers' clock (ms): steps between calls; proofs are made at the same time. */
let clock = 0;
const apps: LocalApp[] = [];

beforeAll(async () => {
  s = await startTestServer();
  issuer = `${s.url}/orgs/${s.organizationId}`;
  // Real time at first (the control plane checks assertions and token-endpoint proofs against
  // its own clock); a step of one window from any instant crosses exactly one boundary.
  clock = Date.now();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await s?.close();
});

/** GET /reports behind requireAgentToken with these options, on a free port; its URL. */
async function reportsApi(extra: Partial<RequireAgentTokenOptions>): Promise<string> {
  const app = express();
  const local = await listenLocal(app);
  apps.push(local);
  const resource = `${local.origin}/reports`;
  app.get('/reports', requireAgentToken({ issuer, resource, now: () => clock, ...extra } as RequireAgentTokenOptions), (req, res) => {
    res.json({ agent: (req as unknown as AgentTokenRequest).agent!.agentId });
  });
  return resource;
}

interface Answer {
  status: number;
  error: unknown;
  challenge: string | null;
  nonce: string | null;
}

async function call(url: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { headers });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, error: body.error, challenge: res.headers.get('www-authenticate'), nonce: res.headers.get('dpop-nonce') };
}

describe('requireAgentToken with dpopNonce (stateless HMAC nonces)', () => {
  let api: string;
  let replica: string;
  let agent: TestAgent;
  let creds: AgentCredentials;
  /** A client on the resource server's clock, counting what /reports answers it. */
  let counted: AgentCredentials;
  const seen: number[] = [];
  /** `Authorization: DPoP <token>` and a proof made at the resource server's clock, with `nonce` when given. */
  let headersWith: (url: string, nonce?: string) => Promise<Record<string, string>>;

  beforeAll(async () => {
    api = await reportsApi({ dpopNonce: { secret: SECRET, windowSeconds: WINDOW_S } });
    // Another replica of the same resource: the same secret, a port of its own.
    replica = await reportsApi({ dpopNonce: { secret: SECRET, windowSeconds: WINDOW_S }, publicUrl: new URL(api).origin, resource: api } as Partial<RequireAgentTokenOptions>);
    agent = await createAgent(s, { scopes: ['reports:read'] });
    creds = AgentCredentials.fromSecret(agent.secret, { baseUrl: s.url, dpop: true });
    counted = AgentCredentials.fromSecret(agent.secret, {
      baseUrl: s.url, dpop: true, now: () => clock,
      fetch: async (url, init) => {
        const res = await globalThis.fetch(url, init);
        if (url.startsWith(api)) seen.push(res.status);
        return res;
      },
    });
    // Its token now, while its clock is the control plane's; the steps below stay within its 300 s.
    await counted.getToken({ resource: api });
    const key = await dpopKeyFromSeed(agent.seed);
    const token = await creds.getToken({ resource: api });
    headersWith = async (url, nonce) => ({
      authorization: `DPoP ${token}`,
      dpop: await createDpopProof({ key, htm: 'GET', htu: url, accessToken: token, nonce, now: clock }),
    });
  });

  test('a proof without the nonce: 401 use_dpop_nonce with the DPoP challenge and a DPoP-Nonce; with it: 200', async () => {
    const first = await call(api, await headersWith(api));
    expect(first).toEqual({
      status: 401,
      error: 'use_dpop_nonce',
      challenge: `DPoP error="use_dpop_nonce", error_description="The DPoP proof must carry the server's current nonce (DPoP-Nonce header)", resource_metadata="${protectedResourceMetadataUrl(api)}", algs="EdDSA Ed25519 ES256"`,
      nonce: expect.stringMatching(/^[a-z0-9]+\.[A-Za-z0-9_-]{24}$/),
    });
    const ok = await call(api, await headersWith(api, first.nonce!));
    // Still the current window's nonce: no new one is handed out.
    expect(ok).toEqual({ status: 200, error: undefined, challenge: null, nonce: null });
  });

  test('a replica with the same secret accepts the nonce; a nonce of another secret is refused', async () => {
    const nonce = (await call(api, await headersWith(api))).nonce!;
    // The replica listens elsewhere but serves the same public URL, which the proof names.
    const onReplica = await fetch(replica, { headers: await headersWith(api, nonce) });
    expect(onReplica.status).toBe(200);
    const foreign = await hmacDpopNonces({ secret: 'another secret, also at least 32 bytes long' }).current(clock);
    expect(foreign).not.toBe(nonce);
    const refused = await call(api, await headersWith(api, foreign));
    expect({ status: refused.status, error: refused.error, nonce: refused.nonce }).toEqual({ status: 401, error: 'use_dpop_nonce', nonce });
  });

  test('a nonce is accepted for its window and the next (with the new nonce in DPoP-Nonce), refused two windows on', async () => {
    const nonce = (await call(api, await headersWith(api))).nonce!;
    clock += WINDOW_S * 1000;
    const next = await call(api, await headersWith(api, nonce));
    expect(next.status).toBe(200);
    expect(next.nonce).toMatch(/^[a-z0-9]+\./);
    expect(next.nonce).not.toBe(nonce);
    clock += WINDOW_S * 1000;
    const stale = await call(api, await headersWith(api, nonce));
    expect({ status: stale.status, error: stale.error }).toEqual({ status: 401, error: 'use_dpop_nonce' });
    expect(stale.nonce).not.toBe(next.nonce);
    expect((await call(api, await headersWith(api, stale.nonce!))).status).toBe(200);
  });

  test('a nonce claim that is no nonce (not a string, too long, a quote) is a bad proof, not a request for the nonce', async () => {
    const key = await dpopKeyFromSeed(agent.seed);
    const token = await creds.getToken({ resource: api });
    for (const nonce of ['x'.repeat(257), 'say "hi"', 'caf\u00e9']) {
      const proof = await createDpopProof({ key, htm: 'GET', htu: api, accessToken: token, nonce, now: clock });
      const r = await call(api, { authorization: `DPoP ${token}`, dpop: proof });
      expect([nonce.slice(0, 10), r.status, r.error, r.nonce]).toEqual([nonce.slice(0, 10), 401, 'invalid_dpop_proof', null]);
    }
  });

  test('AgentCredentials.fetch retries once with the nonce, then sends it first; a stale one costs one retry', async () => {
    const first = await counted.fetch(api, { resource: api });
    expect([first.status, JSON.parse(await first.text())]).toEqual([200, { agent: agent.id }]);
    expect(seen).toEqual([401, 200]);
    await (await counted.fetch(api, { resource: api })).text();
    expect(seen).toEqual([401, 200, 200]);
    clock += 2 * WINDOW_S * 1000;
    await (await counted.fetch(api, { resource: api })).text();
    expect(seen).toEqual([401, 200, 200, 401, 200]);
  });

  test('a DpopNonceSource of your own: its nonce is handed out and checked', async () => {
    let current = 'rotating-1';
    const source: DpopNonceSource = { current: () => current, accepts: (n) => n === current };
    const custom = await reportsApi({ dpopNonce: source });
    const key = await dpopKeyFromSeed(agent.seed);
    const token = await creds.getToken({ resource: custom });
    const withNonce = async (nonce?: string) => ({ authorization: `DPoP ${token}`, dpop: await createDpopProof({ key, htm: 'GET', htu: custom, accessToken: token, nonce, now: clock }) });
    const asked = await call(custom, await withNonce());
    expect([asked.status, asked.error, asked.nonce]).toEqual([401, 'use_dpop_nonce', 'rotating-1']);
    expect((await call(custom, await withNonce('rotating-1'))).status).toBe(200);
    current = 'rotating-2';
    expect(await call(custom, await withNonce('rotating-1'))).toMatchObject({ status: 401, error: 'use_dpop_nonce', nonce: 'rotating-2' });
  });

  test('bearer tokens carry no proof and are not asked for a nonce', async () => {
    const bearer = AgentCredentials.fromSecret(agent.secret, { baseUrl: s.url });
    const r = await call(api, await bearer.authHeaders('GET', api, { resource: api }));
    expect([r.status, r.nonce]).toEqual([200, null]);
  });

  test('a secret shorter than 32 bytes is refused when the middleware is made', () => {
    expect(() => requireAgentToken({ issuer, resource: 'https://r.example.com/', dpopNonce: { secret: 'short' } })).toThrow('dpopNonce.secret must be at least 32 bytes');
    expect(() => hmacDpopNonces({ secret: SECRET, windowSeconds: 0 })).toThrow('windowSeconds');
  });
});

test('the nonce format is the same in the Python kit: a fixed vector', async () => {
  // python/tests/test_resource_nonce.py checks the same value.
  expect(await hmacDpopNonces({ secret: SECRET, windowSeconds: 60 }).current(1_800_000_000_000)).toBe(VECTOR);
});
const VECTOR = 'hv05c.swoTrdvdeUBo4BqxvMxNMdQ3';
