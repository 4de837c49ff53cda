/**
 * Discovery, per organization issuer (see services/issuer.ts): RFC 8414 metadata at the path-inserted
 * well-known URL and the organization's signing keys (JWKS). The server root is no issuer: its
 * well-known URLs answer 404 with a pointer to the per-organization ones.
 */
import { NotFoundError } from '../errors';
import { isCanonicalUuid } from '../crypto/ids';
import { orgIssuer, orgJwksUrl, orgMetadataUrl } from '../services/issuer';
import { OrgParams } from '../schemas/params';
import { AuthorizationServerMetadata, Jwks } from '../schemas/responses';
import type { SigningKeyService } from '../services/signing-keys';
import { CLIENT_AUTH_METHODS } from '../oauth/client-auth';
import { GRANTS } from '../oauth/grants';
import { DPOP_SIGNING_ALGS } from '../../../model/dpop';
import { auth, manifest } from './manifest';
import { AUTHORIZATION_ENDPOINT_PATH } from './oauth';

export interface WellKnownRouteDeps {
  signingKeys: SigningKeyService;
  /** The public base URL (CERTUSORDO_PUBLIC_URL), without a trailing slash. */
  baseUrl: string;
}

/** RFC 8414 metadata of an organization's issuer; every endpoint but the JWKS is shared by all organizations. */
export function authorizationServerMetadata(base: string, orgId: string): Record<string, unknown> {
  return {
    issuer: orgIssuer(base, orgId),
    // Required by RFC 8414 (and by the MCP SDKs' metadata schemas) although no response type is
    // offered: it answers unsupported_response_type directly, never by redirect (routes/oauth.ts).
    authorization_endpoint: `${base}${AUTHORIZATION_ENDPOINT_PATH}`,
    token_endpoint: `${base}/v1/oauth/token`,
    jwks_uri: orgJwksUrl(base, orgId),
    introspection_endpoint: `${base}/v1/oauth/introspect`,
    revocation_endpoint: `${base}/v1/oauth/revoke`,
    grant_types_supported: GRANTS.map((g) => g.grantType),
    response_types_supported: [],
    token_endpoint_auth_methods_supported: [...new Set(CLIENT_AUTH_METHODS.map((m) => m.name))],
    // RFC 9864 fully-specified name as well as the polymorphic one (both mean Ed25519 here).
    token_endpoint_auth_signing_alg_values_supported: [...new Set(CLIENT_AUTH_METHODS.flatMap((m) => m.signingAlgs ?? ['EdDSA', 'Ed25519']))],
    introspection_endpoint_auth_methods_supported: ['bearer'],
    revocation_endpoint_auth_methods_supported: ['bearer', 'none'],
    client_assertion_types_supported: [...new Set(CLIENT_AUTH_METHODS.map((m) => m.assertionType))],
    access_token_signing_alg_values_supported: ['EdDSA'],
    // RFC 9449 §5.1: the token endpoint binds tokens to a DPoP proof key of these algorithms.
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    service_documentation: `${base}/docs`,
  };
}

/** Organization ids appear in issuers in their canonical (lowercase) form only, so each issuer has one spelling. */
function canonicalOrgId(id: string): string | null {
  return isCanonicalUuid(id) ? id : null;
}

function noSuchIssuer(): NotFoundError {
  return new NotFoundError('No such organization issuer');
}

const pointer = (base: string, what: string, url: string) => new NotFoundError(
  `This server is not an issuer itself: every organization is (${orgIssuer(base, '{org_id}')}). Fetch the ${what} at ${url}.`,
  [{ path: 'org_id', message: 'per_organization_issuer' }],
);

const discovery = { reads: 'nothing', errorShape: 'api' } as const;

export const wellKnownRoutes = manifest<WellKnownRouteDeps>('well-known', (route) => [
  route({
    ...discovery, method: 'get', path: '/.well-known/oauth-authorization-server/orgs/{org_id}', summary: 'The organization issuer\'s authorization server metadata (RFC 8414)',
    auth: auth.none, params: OrgParams, responses: { 200: AuthorizationServerMetadata },
    handle: async ({ params }, { signingKeys, baseUrl }) => {
      const orgId = canonicalOrgId(params.org_id);
      // Loading the keys proves the organization exists (and readies its JWKS before any token).
      if (!orgId || !(await signingKeys.findJwks(orgId))) throw noSuchIssuer();
      return { body: authorizationServerMetadata(baseUrl, orgId), headers: { 'Cache-Control': 'public, max-age=3600' } };
    },
  }),
  route({
    ...discovery, method: 'get', path: '/orgs/{org_id}/.well-known/jwks.json', summary: 'The organization\'s access-token signing keys (JWKS, OKP/Ed25519)',
    auth: auth.none, params: OrgParams, responses: { 200: Jwks }, contentType: 'application/jwk-set+json',
    handle: async ({ params }, { signingKeys }) => {
      const orgId = canonicalOrgId(params.org_id);
      const jwks = orgId ? await signingKeys.findJwks(orgId) : null;
      if (!jwks) throw noSuchIssuer();
      // Short: a rotated-in key must reach verifiers before its tokens do.
      return { body: jwks, headers: { 'Cache-Control': 'public, max-age=60' } };
    },
  }),
  route({
    ...discovery, method: 'get', path: '/.well-known/oauth-authorization-server', summary: 'Not an issuer: 404, pointing to the per-organization metadata',
    auth: auth.none, responses: {}, errors: [404],
    handle: async (_ctx, { baseUrl }) => {
      throw pointer(baseUrl, 'metadata', orgMetadataUrl(baseUrl, '{org_id}'));
    },
  }),
  route({
    ...discovery, method: 'get', path: '/.well-known/jwks.json', summary: 'Not an issuer: 404, pointing to the per-organization JWKS',
    auth: auth.none, responses: {}, errors: [404],
    handle: async (_ctx, { baseUrl }) => {
      throw pointer(baseUrl, 'keys', orgJwksUrl(baseUrl, '{org_id}'));
    },
  }),
]);
