/**
 * Standard clients, unmodified: openid-client 6 (oauth4webapi 3) as the agent and jose as the
 * relying service, against the real server. Nothing here patches a header or rewrites a request:
 * openid-client signs its client assertions with `alg: "Ed25519"` (RFC 9864) and puts the
 * organization issuer in `aud`; `allowInsecureRequests` only lets it speak http to loopback.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { startTestServer, TestServer } from '../support/server';
import { admin, createAgent, introspect, TestAgent } from './helpers';

let s: TestServer;
let orgB: { organizationId: string; apiKey: string };
beforeAll(async () => {
  s = await startTestServer();
  orgB = await s.createOrganization('admin');
});
afterAll(async () => s?.close());

const issuerOf = (orgId: string) => `${s.url}/orgs/${orgId}`;

/** The agent's Ed25519 private key as the WebCrypto key openid-client takes. */
async function agentKey(agent: TestAgent): Promise<oidc.CryptoKey> {
  const jwk = { kty: 'OKP', crv: 'Ed25519', d: agent.seed.toString('base64url'), x: agent.publicKey };
  return (await crypto.subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['sign'])) as oidc.CryptoKey;
}

/** RFC 8414 discovery of the organization's issuer, private_key_jwt with `key` (default: the agent's own). */
async function discover(agent: TestAgent, orgId = s.organizationId, key?: oidc.CryptoKey): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuerOf(orgId)), agent.id, {}, oidc.PrivateKeyJwt(key ?? (await agentKey(agent))), {
    algorithm: 'oauth2',
    execute: [oidc.allowInsecureRequests],
  });
}

/** What an openid-client user reads: the OAuth error code, from the body or from the WWW-Authenticate challenge. */
function oauthError(e: unknown): { status: number; error: string | undefined } | undefined {
  if (e instanceof oidc.ResponseBodyError) return { status: e.status, error: e.error };
  if (e instanceof oidc.WWWAuthenticateChallengeError) return { status: e.status, error: e.cause[0]?.parameters.error };
  return undefined;
}

/** A relying service configured the usual way: its organization's issuer, an audience and the issuer's JWKS. */
function verifierFor(meta: oidc.ServerMetadata, audience: string = meta.issuer) {
  const jwks = createRemoteJWKSet(new URL(meta.jwks_uri!));
  return (token: string) => jwtVerify(token, jwks, { issuer: meta.issuer, audience, typ: 'at+jwt', algorithms: ['EdDSA'] });
}

test('discovery → client credentials (private_key_jwt) → jose verification via the JWKS → RFC 7009 revocation → inactive', async () => {
  const agent = await createAgent(s, { scopes: ['payments:read', 'payments:write'] });
  const config = await discover(agent);
  const meta = config.serverMetadata();
  expect(meta).toMatchObject({
    issuer: issuerOf(s.organizationId),
    token_endpoint: `${s.url}/v1/oauth/token`,
    jwks_uri: `${issuerOf(s.organizationId)}/.well-known/jwks.json`,
    revocation_endpoint: `${s.url}/v1/oauth/revoke`,
  });
  expect(meta.token_endpoint_auth_signing_alg_values_supported).toEqual(expect.arrayContaining(['Ed25519', 'EdDSA']));

  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'payments:read' });
  expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'payments:read', expires_in: expect.any(Number) });

  const { payload, protectedHeader } = await verifierFor(meta)(tokens.access_token);
  expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
  expect(payload).toMatchObject({ iss: meta.issuer, aud: meta.issuer, sub: agent.id, client_id: agent.id, scope: 'payments:read', org_id: s.organizationId });
  expect(await introspect(s.url, s.apiKey, tokens.access_token)).toMatchObject({ active: true, sub: agent.id });

  // A second grant signs a new assertion (fresh jti), so single use does not get in the way.
  const second = await oidc.clientCredentialsGrant(config);
  expect(second.access_token).not.toBe(tokens.access_token);

  await oidc.tokenRevocation(config, tokens.access_token);
  expect(await introspect(s.url, s.apiKey, tokens.access_token)).toEqual({ active: false });
  expect((await introspect(s.url, s.apiKey, second.access_token)).active).toBe(true);
});

test('refusals come back as openid-client errors with the RFC 6749 codes', async () => {
  const agent = await createAgent(s, { scopes: ['payments:read'] });
  const config = await discover(agent);

  const scope = await oidc.clientCredentialsGrant(config, { scope: 'payments:write' }).catch((e: unknown) => e);
  expect(oauthError(scope)).toEqual({ status: 400, error: 'invalid_scope' });

  // Another agent's key under this agent's id: the assertion does not verify.
  const stranger = await createAgent(s);
  const wrongKey = await discover(agent, s.organizationId, await agentKey(stranger));
  const client = await oidc.clientCredentialsGrant(wrongKey).catch((e: unknown) => e);
  expect(oauthError(client)).toEqual({ status: 401, error: 'invalid_client' });

  expect((await admin(s).post(`/v1/agents/${agent.id}/suspend`, { reason: 'interop test' })).status).toBe(200);
  const grant = await oidc.clientCredentialsGrant(config).catch((e: unknown) => e);
  expect(oauthError(grant)).toEqual({ status: 400, error: 'invalid_grant' });
});

test("organization B's verifier (B's issuer and JWKS, no claim-specific code) refuses A's token", async () => {
  const agentA = await createAgent(s, { scopes: ['payments:read'] });
  const agentB = await createAgent(s, { scopes: ['payments:read'] }, orgB.apiKey);
  const metaA = (await discover(agentA)).serverMetadata();
  const configB = await discover(agentB, orgB.organizationId);
  const metaB = configB.serverMetadata();
  expect(metaB.issuer).toBe(issuerOf(orgB.organizationId));
  expect(metaB.jwks_uri).not.toBe(metaA.jwks_uri);

  const tokenA = (await oidc.clientCredentialsGrant(await discover(agentA))).access_token;
  const tokenB = (await oidc.clientCredentialsGrant(configB)).access_token;
  const verifyB = verifierFor(metaB);

  await expect(verifyB(tokenB)).resolves.toMatchObject({ payload: { sub: agentB.id, org_id: orgB.organizationId } });
  const refused = await verifyB(tokenA).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(joseErrors.JOSEError);
  // Even with A's keys by mistake, B's issuer check alone refuses it.
  const misconfigured = createRemoteJWKSet(new URL(metaA.jwks_uri!));
  await expect(jwtVerify(tokenA, misconfigured, { issuer: metaB.issuer, audience: metaB.issuer })).rejects.toMatchObject({
    code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    claim: 'iss',
  });
  // An agent cannot even discover itself under another organization's issuer and get a token there.
  const crossed = await oidc.clientCredentialsGrant(await discover(agentA, orgB.organizationId)).catch((e: unknown) => e);
  expect(oauthError(crossed)?.error).toBe('invalid_client');

  // Introspection with B's key says inactive too.
  expect(await introspect(s.url, orgB.apiKey, tokenA)).toEqual({ active: false });
});

test('RFC 8707 resource: the token is addressed to it, and a verifier requiring another audience refuses it', async () => {
  const agent = await createAgent(s, { scopes: ['payments:read'] });
  const config = await discover(agent);
  const meta = config.serverMetadata();
  const payments = 'https://payments.example.com/api';
  const reports = 'https://reports.example.com/';

  const { access_token: token } = await oidc.clientCredentialsGrant(config, { resource: payments });
  await expect(verifierFor(meta, payments)(token)).resolves.toMatchObject({ payload: { aud: payments, iss: meta.issuer } });
  await expect(verifierFor(meta, reports)(token)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
  // A token minted for the payments service is not one for the organization at large.
  await expect(verifierFor(meta)(token)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });

  // Repeated resource: every one of them is an audience.
  const both = new URLSearchParams([['resource', payments], ['resource', reports]]);
  const { access_token: multi } = await oidc.clientCredentialsGrant(config, both);
  await expect(verifierFor(meta, reports)(multi)).resolves.toMatchObject({ payload: { aud: [payments, reports] } });
  await expect(verifierFor(meta, 'https://other.example.com/')(multi)).rejects.toMatchObject({ claim: 'aud' });
});

test('discovery of an unknown organization fails', async () => {
  const agent = await createAgent(s);
  await expect(discover(agent, '00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(Error);
});
