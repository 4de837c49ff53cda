import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';
import {
  AgentCredentials,
  AuthenticationError,
  CertusOrdoClient,
  CertusOrdoError,
  CLIENT_ASSERTION_TYPE,
  formatAgentSecret,
  generateAgentKeyPair,
  jwkThumbprint,
  NotFoundError,
  parseAgentSecret,
  TokenVerificationError,
  ValidationError,
  verifyAccessToken,
} from '../../sdk/src';
import { base64url } from '../../sdk/src/internal/encoding';
import { startPeer, type Peer, type ReceivedRequest } from './helpers/peer';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Node's Ed25519 key from a raw 32-byte seed (PKCS#8 DER prefix + seed). */
const nodePrivateKey = (seed: Uint8Array) =>
  createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });

// RFC 8032 §7.1, TEST 1–3
const RFC8032 = [
  {
    name: 'TEST 1',
    secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    secretKey: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

describe('Ed25519: @noble/ed25519 and node:crypto agree on RFC 8032 §7.1', () => {
  it.each(RFC8032)('$name', async (v) => {
    const seed = hex(v.secretKey);
    const msg = hex(v.message);
    // public key
    expect(toHex(await ed.getPublicKeyAsync(seed))).toBe(v.publicKey);
    const nodeJwk = createPublicKey(nodePrivateKey(seed)).export({ format: 'jwk' });
    expect(Buffer.from(nodeJwk.x!, 'base64url').toString('hex')).toBe(v.publicKey);
    // signature (Ed25519 is deterministic)
    expect(toHex(await ed.signAsync(msg, seed))).toBe(v.signature);
    expect(nodeSign(null, msg, nodePrivateKey(seed)).toString('hex')).toBe(v.signature);
    // each verifies the other's signature
    const pub = createPublicKey(nodePrivateKey(seed));
    expect(nodeVerify(null, msg, pub, Buffer.from(await ed.signAsync(msg, seed)))).toBe(true);
    expect(await ed.verifyAsync(nodeSign(null, msg, nodePrivateKey(seed)), msg, hex(v.publicKey))).toBe(true);
  });
});

describe('agent keys', () => {
  const agentId = '6f0d3c1e-8a53-4a55-9d69-0e9a3d3f1a01';
  const seed = hex(RFC8032[0]!.secretKey);

  it('kid is the RFC 7638 thumbprint jose computes', async () => {
    const x = base64url(hex(RFC8032[0]!.publicKey));
    const expected = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x }, 'sha256');
    expect(await jwkThumbprint(x)).toBe(expected);
    expect(await jwkThumbprint(hex(RFC8032[0]!.publicKey))).toBe(expected);
    // RFC 8037 Appendix A.3 thumbprint of the same RFC 8032 TEST 1 key
    expect(expected).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });

  it('parses and formats cos_<uuid>_<seed> secrets without echoing them in errors', () => {
    const secret = formatAgentSecret(agentId, seed);
    expect(secret).toMatch(/^cos_6f0d3c1e-8a53-4a55-9d69-0e9a3d3f1a01_[A-Za-z0-9_-]{43}$/);
    const parsed = parseAgentSecret(secret);
    expect(parsed.agentId).toBe(agentId);
    expect(toHex(parsed.privateKey)).toBe(RFC8032[0]!.secretKey);
    for (const bad of ['cos_nope', `cos_${agentId}_short`, secret.replace('cos_', 'xyz_'), `${secret}A`]) {
      let message = '';
      try {
        parseAgentSecret(bad);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/malformed agent secret/);
      expect(message).not.toContain(base64url(seed).slice(0, 20));
    }
  });

  it('generates key pairs whose kid matches', async () => {
    const kp = await generateAgentKeyPair();
    expect(kp.privateKey).toHaveLength(32);
    expect(kp.kid).toBe(await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: kp.publicKey }));
  });

  it('signs a client assertion that jose verifies with the agent public key', async () => {
    const creds = AgentCredentials.fromSecret(formatAgentSecret(agentId, seed), { baseUrl: 'https://co.example/' });
    const jwt = await creds.createClientAssertion();
    const key = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: base64url(hex(RFC8032[0]!.publicKey)) }, 'EdDSA');
    const { payload, protectedHeader } = await jwtVerify(jwt, key, {
      issuer: agentId,
      subject: agentId,
      audience: 'https://co.example/v1/oauth/token',
      algorithms: ['EdDSA'],
    });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k' });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect((await jwtVerify(await creds.createClientAssertion(), key)).payload.jti).not.toBe(payload.jti);
    // the credentials object never shows its key
    expect(JSON.stringify(creds)).not.toContain(base64url(seed));
    expect(require('node:util').inspect(creds)).not.toContain(base64url(seed));
  });
});

describe('AgentCredentials against a token endpoint', () => {
  const agentId = '11111111-2222-4333-8444-555555555555';
  let peer: Peer | undefined;
  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  const tokenResponse = (n: number, expiresIn = 300) => ({
    status: 200,
    body: { access_token: `tok-${n}`, token_type: 'Bearer', expires_in: expiresIn, scope: 'payments:read' },
  });

  async function setup(script: Parameters<typeof startPeer>[0], over: Record<string, unknown> = {}) {
    peer = await startPeer(script);
    const kp = await generateAgentKeyPair();
    const creds = AgentCredentials.fromKey({ agentId, privateKey: kp.privateKey, baseUrl: peer.url, ...over });
    return { creds, kp };
  }
  const form = (r: ReceivedRequest) => Object.fromEntries(new URLSearchParams(r.body));

  it('posts a form-encoded client_credentials grant with a signed assertion', async () => {
    const { creds, kp } = await setup((_r, i) => tokenResponse(i));
    expect(await creds.getToken({ scope: 'payments:read' })).toBe('tok-0');
    const r = peer!.received[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/v1/oauth/token');
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(r.headers.authorization).toBeUndefined();
    const f = form(r);
    expect(f).toMatchObject({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, scope: 'payments:read' });
    expect(decodeProtectedHeader(f.client_assertion!).kid).toBe(kp.kid);
    const key = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: kp.publicKey }, 'EdDSA');
    await expect(jwtVerify(f.client_assertion!, key, { audience: `${peer!.url}/v1/oauth/token` })).resolves.toBeDefined();
  });

  it('a call off the control plane needs a resource (or a token of the caller\'s choosing): a control-plane token never leaves for another service', async () => {
    const { creds } = await setup((_r, i) => tokenResponse(i));
    await expect(creds.authHeaders('GET', 'https://tools.example.com/mcp')).rejects.toThrow(/resource/);
    await expect(creds.fetch('https://tools.example.com/mcp')).rejects.toThrow(/to call https:\/\/tools\.example\.com, pass resource/);
    expect(peer!.received).toHaveLength(0); // refused before any token was requested
    expect(await creds.authHeaders('GET', 'https://tools.example.com/mcp', { resource: 'https://tools.example.com/mcp' })).toEqual({ authorization: 'Bearer tok-0' });
    expect(form(peer!.received[0]!).resource).toBe('https://tools.example.com/mcp');
    expect(await creds.authHeaders('GET', 'https://tools.example.com/mcp', { accessToken: 'chosen' })).toEqual({ authorization: 'Bearer chosen' });
    expect(await creds.authHeaders('GET', `${peer!.url}/v1/sessions`)).toEqual({ authorization: 'Bearer tok-1' }); // the control plane's own origin
  });

  it('fetch follows no redirect: the agent\'s token stays with the service it was issued for', async () => {
    const { creds } = await setup((_r, i) => tokenResponse(i));
    const elsewhere = await startPeer(() => ({ status: 200, body: {} }));
    const service = await startPeer(() => ({ status: 302, headers: { location: `${elsewhere.url}/collect` }, body: {} }));
    try {
      const res = await creds.fetch(`${service.url}/tool`, { resource: service.url });
      expect([res.status, res.headers.get('location')]).toEqual([302, `${elsewhere.url}/collect`]);
      expect(service.received[0]!.headers.authorization).toBe('Bearer tok-0');
      expect(elsewhere.received).toHaveLength(0);
    } finally {
      await service.close();
      await elsewhere.close();
    }
  });

  it('caches per scope set, shares one in-flight request, and refreshes 30 s before expiry', async () => {
    let clock = Date.now();
    const { creds } = await setup((_r, i) => ({ ...tokenResponse(i, i === 0 ? 31 : 300), delayMs: 50 }), { now: () => clock });
    const [a, b] = await Promise.all([creds.getToken(), creds.getToken()]);
    expect(a).toBe('tok-0');
    expect(b).toBe('tok-0');
    expect(peer!.received).toHaveLength(1);
    // 31 s lifetime: served from the cache until 30 s before expiry, replaced from then on.
    clock += 999;
    expect(await creds.getToken()).toBe('tok-0');
    expect(peer!.received).toHaveLength(1);
    clock += 1;
    expect(await creds.getToken()).toBe('tok-1');
    expect(await creds.getToken()).toBe('tok-1');
    expect(await creds.getToken({ scope: ['b:read', 'a:read'] })).toBe('tok-2');
    expect(await creds.getToken({ scope: 'a:read b:read' })).toBe('tok-2');
    expect(await creds.getToken({ forceRefresh: true })).toBe('tok-3');
    expect(peer!.received).toHaveLength(4);
    expect(form(peer!.received[2]!).scope).toBe('a:read b:read');
  });

  it('signs a fresh assertion (new jti) for each retry', async () => {
    const { creds } = await setup([{ status: 503, body: { error: 'temporarily_unavailable' } }, tokenResponse(1)]);
    expect(await creds.getToken()).toBe('tok-1');
    const [j1, j2] = peer!.received.map((r) => JSON.parse(Buffer.from(form(r).client_assertion!.split('.')[1]!, 'base64url').toString()).jti);
    expect(j1).not.toBe(j2);
  });

  it('sends RFC 8707 resource (repeated for several) and caches per resource set', async () => {
    const { creds } = await setup((_r, i) => tokenResponse(i));
    const all = (r: ReceivedRequest) => new URLSearchParams(r.body);
    expect(await creds.getToken({ resource: 'https://payments.example/' })).toBe('tok-0');
    expect(await creds.getToken({ resource: ['https://payments.example/'] })).toBe('tok-0');
    expect(await creds.getToken()).toBe('tok-1');
    expect(await creds.getToken({ resource: ['https://b.example/', 'https://payments.example/', 'https://b.example/'] })).toBe('tok-2');
    expect(await creds.getToken({ resource: ['https://payments.example/', 'https://b.example/'] })).toBe('tok-2');
    expect(peer!.received).toHaveLength(3);
    expect(all(peer!.received[0]!).getAll('resource')).toEqual(['https://payments.example/']);
    expect(all(peer!.received[1]!).getAll('resource')).toEqual([]);
    expect(all(peer!.received[2]!).getAll('resource')).toEqual(['https://b.example/', 'https://payments.example/']);
    expect(all(peer!.received[2]!).get('grant_type')).toBe('client_credentials');
  });

  it('maps RFC 6749 errors to typed errors', async () => {
    const { creds } = await setup([
      { status: 401, body: { error: 'invalid_client', error_description: 'unknown key' } },
      { status: 400, body: { error: 'invalid_scope', error_description: 'scope not granted' } },
    ]);
    await expect(creds.getToken()).rejects.toMatchObject({ constructor: AuthenticationError, code: 'invalid_client', message: 'unknown key' });
    await expect(creds.getToken({ scope: 'x:y' })).rejects.toMatchObject({ constructor: ValidationError, code: 'invalid_scope' });
  });

  it('opens a session with the agent bearer token', async () => {
    const { creds } = await setup((r, i) =>
      r.url === '/v1/oauth/token'
        ? tokenResponse(i)
        : {
            status: 201,
            body: {
              id: 'sess-1',
              agent_id: 'agent-1',
              access_token: 'sess-token',
              created_at: '2029-12-31T23:50:00.000Z',
              expires_at: '2030-01-01T00:00:00.000Z',
              ended_at: null,
              end_reason: null,
              scopes: ['payments:read'],
              max_operations: 10,
              operations_used: 0,
              status: 'active',
              purpose: 'nightly run',
            },
          },
    );
    const s = await creds.openSession({ scopes: ['payments:read'], ttlSeconds: 600, maxOperations: 10, purpose: 'nightly run' });
    expect(s).toEqual({
      id: 'sess-1',
      agentId: 'agent-1',
      purpose: 'nightly run',
      createdAt: new Date('2029-12-31T23:50:00.000Z'),
      endedAt: null,
      endReason: null,
      accessToken: 'sess-token',
      expiresAt: new Date('2030-01-01T00:00:00.000Z'),
      scopes: ['payments:read'],
      maxOperations: 10,
      operationsUsed: 0,
      status: 'active',
    });
    const post = peer!.received[1]!;
    expect(post.url).toBe('/v1/sessions');
    expect(post.headers.authorization).toBe('Bearer tok-0');
    expect(post.headers['idempotency-key']).toBeDefined();
    expect(JSON.parse(post.body)).toEqual({ scopes: ['payments:read'], ttl_seconds: 600, max_operations: 10, purpose: 'nightly run' });
  });
});

describe('relying services', () => {
  let peer: Peer | undefined;
  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  it('verifyAccessToken checks signature, typ, issuer and audience against a cached JWKS', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    peer = await startPeer(() => ({ status: 200, body: { keys: [jwk] } }));
    const issuer = 'https://co.example';
    const jwksUrl = `${peer.url}/.well-known/jwks.json`;
    const mint = (typ: string, claims: Record<string, unknown> = {}, exp: string | number = '5m') =>
      new SignJWT({ scope: 'payments:read payments:write', client_id: 'agent-1', ...claims })
        .setProtectedHeader({ alg: 'EdDSA', typ, kid: 'k1' })
        .setIssuer(issuer)
        .setSubject('agent-1')
        .setAudience('payments-api')
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(privateKey);

    const ok = await verifyAccessToken(await mint('at+jwt', { sid: 's-1' }), { issuer, jwksUrl, audience: 'payments-api' });
    expect(ok).toMatchObject({ sub: 'agent-1', scopes: ['payments:read', 'payments:write'], clientId: 'agent-1', sid: 's-1' });
    expect(ok.expiresAt).toBeInstanceOf(Date);

    await expect(verifyAccessToken(await mint('JWT'), { issuer, jwksUrl })).rejects.toBeInstanceOf(TokenVerificationError);
    await expect(verifyAccessToken(await mint('at+jwt'), { issuer: 'https://other', jwksUrl })).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
    await expect(verifyAccessToken(await mint('at+jwt'), { issuer, jwksUrl, audience: 'other-api' })).rejects.toBeInstanceOf(
      TokenVerificationError,
    );
    await expect(
      verifyAccessToken(await mint('at+jwt', {}, Math.floor(Date.now() / 1000) - 60), { issuer, jwksUrl }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    // one JWKS fetch served every verification
    expect(peer.received).toHaveLength(1);
  });

  it('requires the issuer of your organization, discovers its JWKS (RFC 8414) and refuses other issuers', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    // One key for both organizations: the issuer alone must tell them apart.
    peer = await startPeer((r) => {
      const m = /^\/\.well-known\/oauth-authorization-server\/orgs\/([^/]+)$/.exec(r.url);
      if (m) return { status: 200, body: { issuer: `${peer!.url}/orgs/${m[1]}`, jwks_uri: `${peer!.url}/orgs/${m[1]}/.well-known/jwks.json` } };
      if (/^\/orgs\/[^/]+\/\.well-known\/jwks\.json$/.test(r.url)) return { status: 200, body: { keys: [jwk] } };
      return { status: 404, body: { error: { code: 'not_found', message: 'no such organization' } } };
    });
    const base = peer.url;
    const mint = (org: string, aud: string | string[] = `${base}/orgs/${org}`) =>
      new SignJWT({ scope: 'payments:read', client_id: 'agent-1', org_id: org })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' })
        .setIssuer(`${base}/orgs/${org}`)
        .setSubject('agent-1')
        .setAudience(aud)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);

    // No issuer: refused before anything is fetched.
    const none = {} as Parameters<typeof verifyAccessToken>[1];
    await expect(verifyAccessToken(await mint('org-a'), none)).rejects.toBeInstanceOf(TypeError);
    await expect(verifyAccessToken(await mint('org-a'), { baseUrl: base } as Parameters<typeof verifyAccessToken>[1])).rejects.toBeInstanceOf(TypeError);
    await expect(verifyAccessToken(await mint('org-a'), { issuer: 'not a url' })).rejects.toBeInstanceOf(TypeError);
    expect(peer.received).toHaveLength(0);

    const a = await verifyAccessToken(await mint('org-a'), { baseUrl: `${base}/`, organizationId: 'org-a' });
    expect(a).toMatchObject({ sub: 'agent-1', organizationId: 'org-a', audience: [`${base}/orgs/org-a`] });
    expect(peer.received.map((r) => r.url)).toEqual(['/.well-known/oauth-authorization-server/orgs/org-a', '/orgs/org-a/.well-known/jwks.json']);
    // The same by issuer; metadata and keys are cached.
    await expect(verifyAccessToken(await mint('org-a'), { issuer: `${base}/orgs/org-a` })).resolves.toMatchObject({ sub: 'agent-1' });
    expect(peer.received).toHaveLength(2);

    // Organization B's verifier refuses organization A's token, although the signature is good.
    await expect(verifyAccessToken(await mint('org-a'), { baseUrl: base, organizationId: 'org-b' })).rejects.toMatchObject({
      constructor: TokenVerificationError,
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
    // Audience, when required: any one of a list.
    const forPayments = await mint('org-b', ['https://payments.example/', 'https://other.example/']);
    await expect(verifyAccessToken(forPayments, { baseUrl: base, organizationId: 'org-b', audience: 'https://payments.example/' })).resolves.toMatchObject({
      audience: ['https://payments.example/', 'https://other.example/'],
    });
    await expect(verifyAccessToken(forPayments, { baseUrl: base, organizationId: 'org-b', audience: ['https://x.example/', 'https://other.example/'] })).resolves.toBeDefined();
    await expect(verifyAccessToken(forPayments, { baseUrl: base, organizationId: 'org-b', audience: 'https://reports.example/' })).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });

    // An unknown organization is a configuration error, not a bad token.
    const unknown = await verifyAccessToken(await mint('org-c'), { issuer: `${base}/nowhere/org-c` }).catch((e) => e);
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown).not.toBeInstanceOf(TokenVerificationError);
  });

  it('refuses metadata that names another issuer (RFC 8414 §3.3)', async () => {
    peer = await startPeer(() => ({ status: 200, body: { issuer: 'https://evil.example/orgs/x', jwks_uri: 'https://evil.example/jwks.json' } }));
    const e = await verifyAccessToken('a.b.c', { baseUrl: peer.url, organizationId: 'x' }).catch((x) => x);
    expect(e).toBeInstanceOf(CertusOrdoError);
    expect(e).toMatchObject({ code: 'invalid_metadata' });
    expect(e).not.toBeInstanceOf(TokenVerificationError);
  });

  it('introspect posts the token form-encoded with the API key', async () => {
    peer = await startPeer([
      { status: 200, body: { active: true, sub: 'agent-1', scope: 'a:read', client_id: 'agent-1', exp: 2000000000, sid: 's-1', token_type: 'Bearer' } },
      { status: 200, body: { active: false } },
    ]);
    const client = new CertusOrdoClient({ apiKey: 'aa_k', baseUrl: peer.url });
    expect(await client.introspect('tok')).toMatchObject({ active: true, sub: 'agent-1', clientId: 'agent-1', exp: 2000000000, sid: 's-1' });
    expect(await client.introspect('tok2')).toEqual({ active: false, raw: { active: false } });
    expect(peer.received[0]!.headers.authorization).toBe('Bearer aa_k');
    expect(peer.received[0]!.body).toBe('token=tok');
    expect(peer.received[0]!.url).toBe('/v1/oauth/introspect');
  });
});
