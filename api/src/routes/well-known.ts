/**
 * Discovery, per organization issuer (see oauth/issuer.ts): RFC 8414 metadata at the path-inserted
 * well-known URL and the organization's signing keys (JWKS). The server root is no issuer: its
 * well-known URLs answer 404 with a pointer to the per-organization ones.
 */
import { Router } from 'express';
import { NotFoundError } from '../errors';
import { isUuid } from '../crypto/ids';
import { orgIssuer, orgJwksUrl, orgMetadataUrl } from '../oauth/issuer';
import type { SigningKeyService } from '../services/signing-keys';
import { CLIENT_ASSERTION_TYPE } from '../services/tokens';

/** RFC 8414 metadata of an organization's issuer; every endpoint but the JWKS is shared by all organizations. */
export function authorizationServerMetadata(base: string, orgId: string): Record<string, unknown> {
  return {
    issuer: orgIssuer(base, orgId),
    token_endpoint: `${base}/v1/oauth/token`,
    jwks_uri: orgJwksUrl(base, orgId),
    introspection_endpoint: `${base}/v1/oauth/introspect`,
    revocation_endpoint: `${base}/v1/oauth/revoke`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    // RFC 9864 fully-specified name as well as the polymorphic one (both mean Ed25519 here).
    token_endpoint_auth_signing_alg_values_supported: ['EdDSA', 'Ed25519'],
    introspection_endpoint_auth_methods_supported: ['bearer'],
    revocation_endpoint_auth_methods_supported: ['bearer', 'none'],
    client_assertion_types_supported: [CLIENT_ASSERTION_TYPE],
    access_token_signing_alg_values_supported: ['EdDSA'],
    service_documentation: `${base}/docs`,
  };
}

/** Organization ids appear in issuers in their canonical (lowercase) form only, so each issuer has one spelling. */
function canonicalOrgId(id: string | undefined): string | null {
  return id !== undefined && isUuid(id) && id === id.toLowerCase() ? id : null;
}

function noSuchIssuer(): NotFoundError {
  return new NotFoundError('No such organization issuer');
}

export function wellKnownRouter(base: string, signingKeys: SigningKeyService): Router {
  const r = Router();
  const pointer = (what: string, url: string) => new NotFoundError(
    `This server is not an issuer itself: every organization is (${orgIssuer(base, '{org_id}')}). Fetch the ${what} at ${url}.`,
    [{ path: 'org_id', message: 'per_organization_issuer' }],
  );

  r.get('/.well-known/oauth-authorization-server/orgs/:orgId', async (req, res) => {
    const orgId = canonicalOrgId(req.params.orgId);
    // Loading the keys proves the organization exists (and readies its JWKS before any token).
    if (!orgId || !(await signingKeys.findJwks(orgId))) throw noSuchIssuer();
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.json(authorizationServerMetadata(base, orgId));
  });
  r.get('/orgs/:orgId/.well-known/jwks.json', async (req, res) => {
    const orgId = canonicalOrgId(req.params.orgId);
    const jwks = orgId ? await signingKeys.findJwks(orgId) : null;
    if (!jwks) throw noSuchIssuer();
    // Short: a rotated-in key must reach verifiers before its tokens do.
    res.setHeader('Cache-Control', 'public, max-age=60');
    res.type('application/jwk-set+json').send(JSON.stringify(jwks));
  });

  r.get('/.well-known/oauth-authorization-server', () => {
    throw pointer('metadata', orgMetadataUrl(base, '{org_id}'));
  });
  r.get('/.well-known/jwks.json', () => {
    throw pointer('keys', orgJwksUrl(base, '{org_id}'));
  });
  return r;
}
