/**
 * The resource-server kit's handling of claims the control plane does not issue yet, against a
 * scripted issuer (metadata + JWKS): a sender-constrained token (`cnf`, RFC 9449) is refused by the
 * kit and by the MCP verifier, since neither sees a DPoP proof; a delegation chain (`act`, RFC
 * 8693) reaches `AuthInfo.extra.delegation`; a malformed `act` refuses the token; with
 * `requireDpop`, a token checked without its request is refused.
 */
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { AgentTokenRefusal, createAgentTokenVerifier } from '@certusordo/sdk';
import { mcpTokenVerifier } from '@certusordo/sdk/mcp';
import { startPeer, type Peer } from './helpers/peer';

let peer: Peer;
let privateKey: KeyLike;
let issuer: string;
const resource = 'https://tools.example.com/mcp';

beforeAll(async () => {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
  peer = await startPeer((r) => {
    if (r.url === '/.well-known/oauth-authorization-server/orgs/org-a') return { status: 200, body: { issuer: `${peer.url}/orgs/org-a`, jwks_uri: `${peer.url}/orgs/org-a/jwks` } };
    if (r.url === '/orgs/org-a/jwks') return { status: 200, body: { keys: [jwk] } };
    return { status: 404, body: {} };
  });
  issuer = `${peer.url}/orgs/org-a`;
});
afterAll(async () => peer?.close());

const mint = (claims: Record<string, unknown>) =>
  new SignJWT({ scope: 'tools:read', client_id: 'agent-1', org_id: 'org-a', jti: 'j1', ...claims })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' })
    .setIssuer(issuer)
    .setSubject('agent-1')
    .setAudience(resource)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);

test('a DPoP-bound token (cnf) is refused: invalid_token from the kit, InvalidTokenError from the MCP verifier', async () => {
  const bound = await mint({ cnf: { jkt: 'thumbprint' } });
  await expect(createAgentTokenVerifier({ issuer, resource }).verify(bound)).rejects.toMatchObject({ code: 'invalid_token', status: 401, message: expect.stringMatching(/DPoP/) });
  await expect(mcpTokenVerifier({ issuer, resource }).verifyAccessToken(bound)).rejects.toBeInstanceOf(InvalidTokenError);
});

test('requireDpop: a bearer token checked without its request (no presentation) is refused, not waved through', async () => {
  const bearer = await mint({});
  await expect(createAgentTokenVerifier({ issuer, resource }).verify(bearer)).resolves.toMatchObject({ agentId: 'agent-1' });
  await expect(createAgentTokenVerifier({ issuer, resource, requireDpop: true }).verify(bearer)).rejects.toMatchObject({ code: 'invalid_token', status: 401, message: expect.stringMatching(/requires DPoP/) });
});

test('the delegation chain (act) is exposed, typed; a malformed one refuses the token', async () => {
  const act = { sub: 'agent-2', act: { sub: 'user-7' } };
  const info = await mcpTokenVerifier({ issuer, resource }).verifyAccessToken(await mint({ act, sid: 'session-1' }));
  expect(info).toMatchObject({ clientId: 'agent-1', scopes: ['tools:read'], resource: new URL(resource), extra: { organizationId: 'org-a', sessionId: 'session-1', delegation: act } });
  for (const bad of [{ act: 'agent-2' }, { act: { act: { sub: 'x' } } }, { act: { sub: 'a', act: [] } }]) {
    const err = await createAgentTokenVerifier({ issuer, resource }).verify(await mint(bad)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentTokenRefusal);
    expect(err).toMatchObject({ code: 'invalid_token' });
  }
});

test('construction refuses what cannot work: no issuer, a resource with a fragment or not a URL, an introspection issuer of another shape', () => {
  expect(() => createAgentTokenVerifier({ resource } as Parameters<typeof createAgentTokenVerifier>[0])).toThrow(TypeError);
  for (const bad of ['tools', 'ftp://h/x', `${resource}#x`]) expect(() => createAgentTokenVerifier({ issuer, resource: bad })).toThrow(TypeError);
  expect(() => createAgentTokenVerifier({ issuer: 'https://id.example.com/tenant', resource, introspection: { apiKey: 'aa_x' } })).toThrow(/orgs/);
  expect(() => createAgentTokenVerifier({ issuer, resource, introspection: { apiKey: '' } })).toThrow(/apiKey/);
});
