/**
 * DPoP (RFC 9449): sender-constrained tokens at the token endpoint, at the control plane's own
 * agent-authenticated routes, through sessions and introspection, from the TS and Python SDKs.
 * Proofs are made with jose (as any standard JOSE library would) or by the SDK; never by the
 * code under test on the server side.
 */
import { createHash, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { admin, assertion, ASSERTION_TYPE, createAgent, decodePayload, introspect, privateJwk, TestAgent } from './helpers';
import {
  AgentCredentials, CertusOrdoClient, createDpopProof, DpopReplayCache, dpopJwkThumbprint, generateDpopKey, parseAuthorization, verifyAccessToken, verifyDpopPresentation, verifyDpopProof,
} from '../../sdk/src';

let s: TestServer;
let agent: TestAgent;
/** The server's log lines: no token, proof or key may reach them. */
const logLines: string[] = [];
beforeAll(async () => {
  s = await startTestServer({ env: { LOG_LEVEL: 'debug' }, logDestination: { write: (line) => void logLines.push(line) } });
  agent = await createAgent(s);
});
afterAll(async () => s?.close());

/** Runs the Python SDK from this repository (python/) with `args`; resolves with its stdout. */
function python(script: string, args: string[]): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { env: { ...process.env, PYTHONPATH: path.join(__dirname, '../../python') } }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)));
  });
}

interface ProofKey {
  alg: 'ES256' | 'EdDSA';
  privateKey: KeyLike;
  jwk: JWK;
  jkt: string;
}

async function proofKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : undefined);
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

interface ProofOptions {
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
  accessToken?: string;
  nonce?: string;
  typ?: string;
  jwk?: JWK;
}

const ath = (token: string) => createHash('sha256').update(token).digest('base64url');
const tokenEndpoint = () => `${s.config.publicUrl ?? s.url}/v1/oauth/token`;
const urlOf = (p: string) => `${s.config.publicUrl ?? s.url}${p}`;

/** A proof built with jose from the RFC's fields, each overridable to make it wrong. */
async function proof(key: ProofKey, o: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = { jti: o.jti ?? randomUUID(), htm: o.htm ?? 'POST', htu: o.htu ?? tokenEndpoint(), iat: o.iat ?? Math.floor(Date.now() / 1000) };
  if (o.accessToken) claims.ath = ath(o.accessToken);
  if (o.nonce) claims.nonce = o.nonce;
  return new SignJWT(claims).setProtectedHeader({ typ: o.typ ?? 'dpop+jwt', alg: key.alg, jwk: o.jwk ?? key.jwk }).sign(key.privateKey);
}

async function tokenWithProof(dpop: string | string[] | undefined, server = s, a = agent, extra: Record<string, string> = {}) {
  const r = request(server.url).post('/v1/oauth/token').type('form');
  return (dpop === undefined ? r : r.set('DPoP', dpop as string)).send({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(server, a), ...extra });
}

async function boundToken(key: ProofKey, a = agent): Promise<string> {
  const res = await tokenWithProof(await proof(key), s, a);
  expect(res.status).toBe(200);
  return res.body.access_token;
}

const asDpop = (token: string, dpop?: string) => (r: request.Test) => {
  const out = r.set('Authorization', `DPoP ${token}`);
  return dpop === undefined ? out : out.set('DPoP', dpop);
};

function expectDpopRefusal(res: request.Response, status = 401, error = 'invalid_dpop_proof') {
  if (status === 401) {
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code: error });
    expect(res.headers['www-authenticate']).toBe(`DPoP realm="certusordo", error="${error}", algs="EdDSA Ed25519 ES256"`);
  } else {
    expect({ status: res.status, error: res.body.error }).toEqual({ status, error });
  }
}

test.each(['ES256', 'EdDSA'] as const)('a %s proof binds the token to its key: token_type DPoP, cnf.jkt, shown by introspection', async (alg) => {
  const key = await proofKey(alg);
  const res = await tokenWithProof(await proof(key));
  expect(res.status).toBe(200);
  expect(res.body.token_type).toBe('DPoP');
  expect(decodePayload(res.body.access_token).cnf).toEqual({ jkt: key.jkt });
  expect(await introspect(s.url, s.apiKey, res.body.access_token)).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
  // Without a proof the token stays a bearer token, as before.
  const bearer = await tokenWithProof(undefined);
  expect(bearer.body.token_type).toBe('Bearer');
  expect(decodePayload(bearer.body.access_token).cnf).toBeUndefined();
  const seen = await introspect(s.url, s.apiKey, bearer.body.access_token);
  expect(seen.token_type).toBe('Bearer');
  expect(seen.cnf).toBeUndefined();
});

test('the agent\'s own key may be the DPoP key', async () => {
  const jwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: agent.publicKey };
  const key: ProofKey = { alg: 'EdDSA', privateKey: (await privateJwk(agent.seed, agent.publicKey)) as KeyLike, jwk, jkt: await calculateJwkThumbprint(jwk) };
  const res = await tokenWithProof(await proof(key));
  expect(res.status).toBe(200);
  expect(decodePayload(res.body.access_token).cnf).toEqual({ jkt: key.jkt });
});

test('the token endpoint refuses a bad proof with invalid_dpop_proof, issues nothing, and the assertion stays usable', async () => {
  const key = await proofKey();
  const other = await proofKey();
  const now = Math.floor(Date.now() / 1000);
  const forged = (await proof(key)).split('.');
  const badSignature = `${forged[0]}.${forged[1]}.${(await proof(other)).split('.')[2]}`;
  const { d: _d, ...pub } = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
  void _d;
  const cases: Array<[string, string | string[]]> = [
    ['not a JWS', 'garbage'],
    ['typ JWT', await proof(key, { typ: 'JWT' })],
    ['htu another URL', await proof(key, { htu: urlOf('/v1/oauth/introspect') })],
    ['htm GET', await proof(key, { htm: 'GET' })],
    ['iat stale', await proof(key, { iat: now - 600 })],
    ['iat future', await proof(key, { iat: now + 600 })],
    ['signature by another key', badSignature],
    ['private jwk', await proof(key, { jwk: { ...key.jwk, d: 'AAAA' } })],
    ['jwk of another key than the signer', await proof(key, { jwk: pub })],
    ['two DPoP headers', [await proof(key), await proof(key)]],
    // RFC 9449 §8.1: a nonce is 1*NQCHAR; this one could be no server's (whether nonces are required or not).
    ['nonce of 300 characters', await proof(key, { nonce: 'x'.repeat(300) })],
    ['nonce with a double quote', await proof(key, { nonce: 'say "hi"' })],
  ];
  for (const [what, dpop] of cases) {
    const a = await assertion(s, agent);
    const send = (d: string | string[]) => {
      // An array is sent as one header line per value (node:http setHeader); the typings know only Cookie's.
      return request(s.url).post('/v1/oauth/token').type('form').set('DPoP', d as string).send({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: a });
    };
    const res = await send(dpop);
    expect({ what, status: res.status, error: res.body.error }).toEqual({ what, status: 400, error: 'invalid_dpop_proof' });
    expect(res.body.access_token).toBeUndefined();
    expect(JSON.stringify(res.body)).not.toContain(Array.isArray(dpop) ? dpop[0] : dpop);
    // The refused proof consumed nothing: the same assertion with a good proof gets its token.
    const retry = await send(await proof(key));
    expect({ what, status: retry.status }).toEqual({ what, status: 200 });
  }
});

test('a proof is single-use at the token endpoint', async () => {
  const key = await proofKey();
  const p = await proof(key);
  expect((await tokenWithProof(p)).status).toBe(200);
  const replay = await tokenWithProof(p);
  expectDpopRefusal(replay, 400);
  expect(replay.body.error_description).toMatch(/already used/);
});

test('the control plane\'s routes take a DPoP-bound token only as DPoP with a proof for that request', async () => {
  const key = await proofKey();
  const token = await boundToken(key);
  const list = urlOf('/v1/sessions');
  const get = (dpop?: string, t = token) => asDpop(t, dpop)(request(s.url).get('/v1/sessions'));
  expect((await get(await proof(key, { htm: 'GET', htu: list, accessToken: token }))).status).toBe(200);
  // The query is not part of htu (RFC 9449 §4.3).
  const withQuery = await asDpop(token, await proof(key, { htm: 'GET', htu: list, accessToken: token }))(request(s.url).get('/v1/sessions?limit=5'));
  expect(withQuery.status).toBe(200);

  const asBearer = await request(s.url).get('/v1/sessions').set('Authorization', `Bearer ${token}`);
  expectDpopRefusal(asBearer);
  expect(asBearer.body.error.message).toMatch(/DPoP-bound/);
  expectDpopRefusal(await get(undefined));
  expectDpopRefusal(await get(await proof(key, { htm: 'GET', htu: urlOf('/v1/agents'), accessToken: token })));
  expectDpopRefusal(await get(await proof(key, { htm: 'POST', htu: list, accessToken: token })));
  expectDpopRefusal(await get(await proof(key, { htm: 'GET', htu: list })));
  expectDpopRefusal(await get(await proof(key, { htm: 'GET', htu: list, accessToken: 'another token' })));
  expectDpopRefusal(await get(await proof(key, { htm: 'GET', htu: list, accessToken: token, iat: Math.floor(Date.now() / 1000) - 600 })));
  const thief = await proofKey();
  const stolen = await get(await proof(thief, { htm: 'GET', htu: list, accessToken: token }));
  expectDpopRefusal(stolen);
  expect(stolen.body.error.message).toMatch(/not signed with the key this token is bound to/);
  const once = await proof(key, { htm: 'GET', htu: list, accessToken: token });
  expect((await get(once)).status).toBe(200);
  expectDpopRefusal(await get(once));

  // A bearer token is not accepted under the DPoP scheme, nor an API key.
  const bearer = (await tokenWithProof(undefined)).body.access_token as string;
  const bearerAsDpop = await get(await proof(key, { htm: 'GET', htu: list, accessToken: bearer }), bearer);
  expect(bearerAsDpop.status).toBe(401);
  expect((await request(s.url).get('/v1/sessions').set('Authorization', `DPoP ${s.apiKey}`)).status).toBe(401);
  // Refusals change nothing: the token still works with a good proof.
  expect((await get(await proof(key, { htm: 'GET', htu: list, accessToken: token }))).status).toBe(200);
});

test('revocation with a DPoP-bound token as Bearer credential is refused; the token itself may still revoke itself', async () => {
  const key = await proofKey();
  const token = await boundToken(key);
  const victim = await boundToken(key);
  const refused = await request(s.url).post('/v1/oauth/revoke').set('Authorization', `Bearer ${token}`).type('form').send({ token: victim });
  expectDpopRefusal(refused, 400);
  expect((await introspect(s.url, s.apiKey, victim)).active).toBe(true);
  const revoke = urlOf('/v1/oauth/revoke');
  const ok = await asDpop(token, await proof(key, { htu: revoke, accessToken: token }))(request(s.url).post('/v1/oauth/revoke')).type('form').send({ token: victim });
  expect(ok.status).toBe(200);
  expect((await introspect(s.url, s.apiKey, victim)).active).toBe(false);
});

test('a session opened with a DPoP-bound token is bound to the same key', async () => {
  const key = await proofKey('EdDSA');
  const token = await boundToken(key);
  const opened = await asDpop(token, await proof(key, { htu: urlOf('/v1/sessions'), accessToken: token }))(request(s.url).post('/v1/sessions')).send({ scopes: ['payments:read'], ttl_seconds: 60 });
  expect(opened.status).toBe(201);
  const sessionToken = opened.body.access_token as string;
  expect(decodePayload(sessionToken)).toMatchObject({ sid: opened.body.id, cnf: { jkt: key.jkt } });
  expect(await introspect(s.url, s.apiKey, sessionToken)).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
  const at = `/v1/sessions/${opened.body.id}`;
  expectDpopRefusal(await request(s.url).get(at).set('Authorization', `Bearer ${sessionToken}`));
  expectDpopRefusal(await asDpop(sessionToken, await proof(await proofKey(), { htm: 'GET', htu: urlOf(at), accessToken: sessionToken }))(request(s.url).get(at)));
  const ok = await asDpop(sessionToken, await proof(key, { htm: 'GET', htu: urlOf(at), accessToken: sessionToken }))(request(s.url).get(at));
  expect({ status: ok.status, id: ok.body.id }).toEqual({ status: 200, id: opened.body.id });
});

test('the metadata advertises the DPoP algorithms', async () => {
  const res = await request(s.url).get(`/.well-known/oauth-authorization-server/orgs/${s.organizationId}`);
  expect(res.body.dpop_signing_alg_values_supported).toEqual(['EdDSA', 'Ed25519', 'ES256']);
});

describe('server nonces (CERTUSORDO_DPOP_NONCE=required)', () => {
  let n: TestServer;
  let a: TestAgent;
  beforeAll(async () => {
    n = await startTestServer({ env: { CERTUSORDO_DPOP_NONCE: 'required' } });
    a = await createAgent(n);
  });
  afterAll(async () => n?.close());
  const endpoint = () => `${n.config.publicUrl ?? n.url}/v1/oauth/token`;

  test('a proof without the nonce gets use_dpop_nonce and the nonce; with it, a token', async () => {
    const key = await proofKey();
    const first = await tokenWithProof(await proof(key, { htu: endpoint() }), n, a);
    expect({ status: first.status, error: first.body.error }).toEqual({ status: 400, error: 'use_dpop_nonce' });
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/^[a-z0-9]+\.[A-Za-z0-9_-]+$/);
    const wrong = await tokenWithProof(await proof(key, { htu: endpoint(), nonce: `${nonce}x` }), n, a);
    expect(wrong.body.error).toBe('use_dpop_nonce');
    const second = await tokenWithProof(await proof(key, { htu: endpoint(), nonce }), n, a);
    expect({ status: second.status, type: second.body.token_type }).toEqual({ status: 200, type: 'DPoP' });
    expect(second.headers['dpop-nonce']).toBe(nonce);
    // Bearer token requests (no proof) are not asked for nonces.
    expect((await tokenWithProof(undefined, n, a)).status).toBe(200);
  });

  test('the SDK retries once with the server\'s nonce', async () => {
    const calls: Array<{ status: number; dpop: boolean }> = [];
    const creds = AgentCredentials.fromSecret(a.secret, {
      baseUrl: n.url, dpop: true,
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        calls.push({ status: res.status, dpop: 'dpop' in init.headers });
        return res;
      },
    });
    const token = await creds.getAccessToken();
    expect(token.tokenType).toBe('DPoP');
    expect(calls).toEqual([{ status: 400, dpop: true }, { status: 200, dpop: true }]);
    // The nonce is remembered: the next token request needs no retry.
    await creds.getAccessToken({ forceRefresh: true });
    expect(calls.length).toBe(3);
  });

  test('the Python SDK retries once with the server\'s nonce', async () => {
    const script = `
import sys
from certusordo import AgentCredentials
creds = AgentCredentials.from_secret(sys.argv[1], base_url=sys.argv[2], dpop=True)
print(creds.get_access_token().token_type, creds._token_endpoint_nonce is not None)
`;
    expect((await python(script, [a.secret, n.url])).trim()).toBe('DPoP True');
  });
});

describe('the TypeScript SDK', () => {
  test.each([['the agent\'s own key', true], ['an ES256 key', 'es256']] as const)('requests and presents DPoP-bound tokens with %s', async (_what, option) => {
    const dpop = option === true ? true : await generateDpopKey('ES256');
    const creds = AgentCredentials.fromSecret(agent.secret, { baseUrl: s.url, dpop });
    const token = await creds.getAccessToken();
    expect(token.tokenType).toBe('DPoP');
    const jkt = decodePayload(token.accessToken).cnf as { jkt: string };
    expect(jkt.jkt).toBe(option === true ? await dpopJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: agent.publicKey }) : await dpopJwkThumbprint(dpop as Exclude<typeof dpop, true>));
    const seen = await new CertusOrdoClient({ apiKey: s.apiKey, baseUrl: s.url }).introspect(token.accessToken);
    expect({ tokenType: seen.tokenType, jkt: seen.jkt }).toEqual({ tokenType: 'DPoP', jkt: jkt.jkt });
    // The SDK's own calls carry a proof per request.
    const session = await creds.openSession({ scopes: ['payments:read'] });
    expect(decodePayload(session.accessToken).cnf).toEqual(jkt);
    expect((await creds.getSession(session.id)).id).toBe(session.id);
    // authHeaders: the headers for a call you make yourself, here with the session's token.
    const at = urlOf(`/v1/sessions/${session.id}`);
    const headers = await creds.authHeaders('GET', at, { accessToken: session.accessToken });
    expect(headers.authorization).toBe(`DPoP ${session.accessToken}`);
    expect((await request(s.url).get(`/v1/sessions/${session.id}`).set(headers)).status).toBe(200);
    expectDpopRefusal(await request(s.url).get(`/v1/sessions/${session.id}`).set(headers)); // replayed
    expect((await creds.endSession(session.id)).endReason).toBe('ended_by_agent');
  });

  test('a resource server accepts a bound token only as presented by its key (verifyAccessToken + verifyDpopPresentation)', async () => {
    const creds = AgentCredentials.fromSecret(agent.secret, { baseUrl: s.url, dpop: true });
    const url = 'https://tools.example.com/mcp';
    const replay = new DpopReplayCache();
    /** What a resource server does with a request's headers. */
    const accept = async (h: Record<string, string | undefined>, method = 'POST') => {
      const presented = parseAuthorization(h.authorization);
      if (!presented) return 'no credential';
      const claims = await verifyAccessToken(presented.token, { baseUrl: s.url, organizationId: s.organizationId });
      const r = await verifyDpopPresentation({ ...presented, jkt: claims.jkt, proof: h.dpop, htm: method, htu: url, nowSeconds: Math.floor(Date.now() / 1000), replay });
      return r.ok ? 'ok' : r.reason;
    };
    const headers = await creds.authHeaders('POST', url, { resource: url });
    expect(await accept(headers, 'GET')).toBe('htm_mismatch');
    expect(await accept(headers)).toBe('ok');
    expect(await accept(headers)).toBe('replayed');
    const token = headers.authorization!.slice('DPoP '.length);
    expect(await accept({ authorization: `Bearer ${token}` })).toBe('bearer_scheme');
    expect(await accept({ authorization: `DPoP ${token}` })).toBe('proof_missing');
    const thief = await createDpopProof({ key: await generateDpopKey(), htm: 'POST', htu: url, accessToken: token });
    expect(await accept({ authorization: `DPoP ${token}`, dpop: thief })).toBe('jkt_mismatch');
    const bearer = await AgentCredentials.fromSecret(agent.secret, { baseUrl: s.url }).getToken();
    expect(await accept({ authorization: `Bearer ${bearer}` })).toBe('ok');
    expect(await accept({ authorization: `DPoP ${bearer}`, dpop: (await creds.authHeaders('POST', url, { resource: url })).dpop })).toBe('not_bound');
  });

  test('fetch presents the token with a proof per call and retries once when the service asks for its nonce', async () => {
    // A resource server that requires its own nonce (RFC 9449 §9), built on the SDK's checks.
    const replay = new DpopReplayCache();
    let nonce = 'n-1';
    const seen: string[] = [];
    const app = express();
    app.get('/tool', async (req, res) => {
      const presented = parseAuthorization(req.get('authorization'));
      const claims = await verifyAccessToken(presented!.token, { baseUrl: s.url, organizationId: s.organizationId });
      const htu = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tool`;
      const r = await verifyDpopPresentation({ ...presented!, jkt: claims.jkt, proof: req.get('dpop'), htm: req.method, htu, nowSeconds: Math.floor(Date.now() / 1000), replay, nonce });
      seen.push(r.ok ? 'ok' : r.reason);
      res.setHeader('DPoP-Nonce', nonce);
      if (!r.ok) return void res.status(401).setHeader('WWW-Authenticate', `DPoP error="${r.error}"`).end();
      res.json({ agent: claims.sub });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tool?q=1`;
      const creds = AgentCredentials.fromSecret(agent.secret, { baseUrl: s.url, dpop: true });
      const tool = url.split('?')[0]!;
      const first = await creds.fetch(url, { resource: tool });
      expect({ status: first.status, body: JSON.parse(await first.text()) }).toEqual({ status: 200, body: { agent: agent.id } });
      expect(seen).toEqual(['nonce_missing', 'ok']);
      const status = async () => {
        const r = await creds.fetch(url, { resource: tool });
        await r.text(); // a response's body holds its connection until it is read
        return r.status;
      };
      expect(await status()).toBe(200); // the nonce is remembered
      nonce = 'n-2';
      expect(await status()).toBe(200); // an old nonce: asked again, retried once
      expect(seen).toEqual(['nonce_missing', 'ok', 'ok', 'nonce_invalid', 'ok']);
      // The Python SDK's request() does the same.
      nonce = 'n-3';
      const py = await python(`
import sys
from certusordo import AgentCredentials
creds = AgentCredentials.from_secret(sys.argv[1], base_url=sys.argv[2], dpop=True)
tool = sys.argv[3].split("?")[0]
a = creds.request("GET", sys.argv[3], resource=tool)
b = creds.request("GET", sys.argv[3], resource=tool)
print(a.status, b.status, a.body.decode())
`, [agent.secret, s.url, url]);
      expect(py.trim()).toBe(`200 200 {"agent":"${agent.id}"}`);
      expect(seen.slice(5)).toEqual(['nonce_missing', 'ok', 'ok']);
    } finally {
      server.closeAllConnections(); // the global fetch keeps its connections alive
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('verifyDpopProof checks what the control plane checks, for a resource server', async () => {
    const creds = AgentCredentials.fromSecret(agent.secret, { baseUrl: s.url, dpop: await generateDpopKey('EdDSA') });
    const url = 'https://tools.example.com/v1/run?x=1';
    const token = await creds.getToken();
    const jkt = (decodePayload(token).cnf as { jkt: string }).jkt;
    const headers = await creds.authHeaders('POST', url, { accessToken: token });
    const replay = new DpopReplayCache(10);
    const check = (o: Partial<Parameters<typeof verifyDpopProof>[0]> = {}) => verifyDpopProof({
      proof: headers.dpop!, htm: 'POST', htu: 'https://tools.example.com/v1/run', accessToken: token, expectedJkt: jkt, nowSeconds: Math.floor(Date.now() / 1000), replay, ...o,
    });
    expect(await check({ htu: 'https://tools.example.com/other' })).toMatchObject({ ok: false, error: 'invalid_dpop_proof', reason: 'htu_mismatch' });
    expect(await check({ htm: 'GET' })).toMatchObject({ ok: false, reason: 'htm_mismatch' });
    expect(await check({ accessToken: 'other' })).toMatchObject({ ok: false, reason: 'ath_mismatch' });
    expect(await check({ expectedJkt: 'someone-else' })).toMatchObject({ ok: false, reason: 'jkt_mismatch' });
    expect(await check({ nowSeconds: Math.floor(Date.now() / 1000) + 3600 })).toMatchObject({ ok: false, reason: 'iat_stale' });
    expect(await check({ nonce: 'n-1' })).toMatchObject({ ok: false, error: 'use_dpop_nonce' });
    expect(await check()).toEqual({ ok: true, jkt, jti: expect.any(String) });
    expect(await check()).toMatchObject({ ok: false, reason: 'replayed' });
    // An ES256 proof made by the SDK, checked by the SDK.
    const es = await generateDpopKey('ES256');
    const p = await createDpopProof({ key: es, htm: 'GET', htu: url, accessToken: token, nonce: 'n-1' });
    expect(await verifyDpopProof({ proof: p, htm: 'GET', htu: url, accessToken: token, expectedJkt: await dpopJwkThumbprint(es), nowSeconds: Math.floor(Date.now() / 1000), replay, nonce: 'n-1' }))
      .toMatchObject({ ok: true });
  });
});

test('the Python SDK requests and presents DPoP-bound tokens', async () => {
  const script = `
import json, sys
from certusordo import AgentCredentials
from certusordo.auth.dpop import generate_dpop_key
out = {}
for name, dpop in (("own", True), ("es256", generate_dpop_key("ES256"))):
    creds = AgentCredentials.from_secret(sys.argv[1], base_url=sys.argv[2], dpop=dpop)
    t = creds.get_access_token()
    s = creds.open_session(["payments:read"])
    got = creds.get_session(s.id)
    h = creds.auth_headers("GET", sys.argv[2] + "/v1/sessions/" + s.id, access_token=s.access_token)
    out[name] = {"token_type": t.token_type, "token": t.access_token, "session": s.id, "got": got.id, "session_token": s.access_token, "headers": h}
# Without dpop, the same calls go with a bearer token.
plain = AgentCredentials.from_secret(sys.argv[1], base_url=sys.argv[2])
ps = plain.open_session(["payments:read"])
out["bearer"] = {"token_type": plain.get_access_token().token_type, "ended": plain.end_session(ps.id).end_reason, "headers": plain.auth_headers("GET", sys.argv[2])}
# A resource server in Python: the token verified offline, the TypeScript SDK's proof checked.
from certusordo import verify_access_token
from certusordo.auth.dpop import DpopReplayCache, parse_authorization, verify_dpop_presentation
scheme, token = parse_authorization(sys.argv[4])
claims = verify_access_token(token, issuer=sys.argv[3])
replay = DpopReplayCache()
check = lambda: verify_dpop_presentation(scheme, token, jkt=claims.jkt, proof=sys.argv[5], htm="POST", htu="https://tools.example.com/mcp", replay=replay)
from certusordo import CertusOrdoClient
seen = CertusOrdoClient(api_key=sys.argv[6], base_url=sys.argv[2]).introspect(token)
out["kit"] = [check().ok, check().reason, claims.jkt, seen.token_type, seen.jkt]
print(json.dumps(out))
`;
  const tsCreds = AgentCredentials.fromSecret(agent.secret, { baseUrl: s.url, dpop: await generateDpopKey('ES256') });
  const tsHeaders = await tsCreds.authHeaders('POST', 'https://tools.example.com/mcp', { resource: 'https://tools.example.com/mcp' });
  const tsJkt = (decodePayload(tsHeaders.authorization!.slice('DPoP '.length)).cnf as { jkt: string }).jkt;
  const stdout = await python(script, [agent.secret, s.url, `${s.url}/orgs/${s.organizationId}`, tsHeaders.authorization!, tsHeaders.dpop!, s.apiKey]);
  const { kit, bearer, ...out } = JSON.parse(stdout) as Record<string, { token_type: string; token: string; session: string; got: string; session_token: string; headers: Record<string, string> }> & { kit: unknown; bearer: unknown };
  expect(kit).toEqual([true, 'replayed', tsJkt, 'DPoP', tsJkt]);
  expect(bearer).toEqual({ token_type: 'Bearer', ended: 'ended_by_agent', headers: { Authorization: expect.stringMatching(/^Bearer ey/) } });
  for (const r of Object.values(out)) {
    expect(r.token_type).toBe('DPoP');
    expect(r.got).toBe(r.session);
    const cnf = decodePayload(r.token).cnf;
    expect(cnf).toEqual({ jkt: expect.any(String) });
    expect(decodePayload(r.session_token).cnf).toEqual(cnf);
    expect(r.headers.Authorization).toBe(`DPoP ${r.session_token}`);
    const at = `/v1/sessions/${r.session}`;
    expect((await request(s.url).get(at).set(r.headers)).status).toBe(200);
    expectDpopRefusal(await request(s.url).get(at).set(r.headers)); // the proof was single-use
    expectDpopRefusal(await request(s.url).get(at).set('Authorization', `Bearer ${r.session_token}`));
  }
  expect((decodePayload(out.own!.token).cnf as { jkt: string }).jkt).toBe(await dpopJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: agent.publicKey }));
  // No token reached the audit log.
  expect(JSON.stringify((await admin(s).get('/v1/audit-events?limit=500')).body)).not.toContain(out.own!.token);
});

test('issuance is audited with the bound key\'s thumbprint; no token, proof or key reaches the log or the audit', async () => {
  const key = await proofKey();
  const p = await proof(key);
  const res = await tokenWithProof(p);
  const token = res.body.access_token as string;
  const jti = decodePayload(token).jti as string;
  const refused = await proof(key, { htm: 'GET' });
  await tokenWithProof(refused);
  const list = urlOf('/v1/sessions');
  const used = await proof(key, { htm: 'GET', htu: list, accessToken: token });
  await asDpop(token, used)(request(s.url).get('/v1/sessions'));
  await request(s.url).get('/v1/sessions').set('Authorization', `Bearer ${token}`);
  await s.running.settleAuthAudit();
  const events = (await admin(s).get(`/v1/audit-events?action=agent.authenticated&agent_id=${agent.id}&limit=500`)).body.data as Array<{ data: Record<string, unknown> }>;
  expect(events.find((e) => e.data.token_jti === jti)?.data.dpop_jkt).toBe(key.jkt);
  const seen = logLines.join('\n') + JSON.stringify(events);
  expect(logLines.length).toBeGreaterThan(0);
  for (const secret of [token, p, refused, used, agent.secret, agent.seed.toString('base64url')]) expect(seen).not.toContain(secret);
});
