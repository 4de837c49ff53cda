/** /.well-known: the token signing keys (JWKS) and RFC 8414 authorization server metadata. */
import { Router } from 'express';
import type { SigningKeyService } from '../services/signing-keys';
import { CLIENT_ASSERTION_TYPE } from '../services/tokens';

export function authorizationServerMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    token_endpoint: `${issuer}/v1/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    introspection_endpoint: `${issuer}/v1/oauth/introspect`,
    revocation_endpoint: `${issuer}/v1/oauth/revoke`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['EdDSA'],
    introspection_endpoint_auth_methods_supported: ['bearer'],
    revocation_endpoint_auth_methods_supported: ['bearer', 'none'],
    client_assertion_types_supported: [CLIENT_ASSERTION_TYPE],
    access_token_signing_alg_values_supported: ['EdDSA'],
    service_documentation: `${issuer}/docs`,
  };
}

export function wellKnownRouter(issuer: string, signingKeys: SigningKeyService): Router {
  const r = Router();
  const metadata = authorizationServerMetadata(issuer);
  r.get('/.well-known/jwks.json', (_req, res) => {
    // Short: a rotated-in key must reach verifiers before its tokens do.
    res.setHeader('Cache-Control', 'public, max-age=60');
    res.type('application/jwk-set+json').send(JSON.stringify(signingKeys.jwks()));
  });
  r.get('/.well-known/oauth-authorization-server', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.json(metadata);
  });
  return r;
}
