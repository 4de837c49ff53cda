/**
 * /v1/oauth: the token endpoint (client credentials + private_key_jwt), introspection (RFC 7662),
 * revocation (RFC 7009) and an authorization endpoint that gives nothing (see below). Errors use
 * the OAuth shape `{error, error_description}`.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from '../metrics/metrics';
import type { TokenService } from '../services/tokens';
import type { FederationService } from '../services/federation';
import { RateLimitedError, UnsupportedResponseTypeError } from '../domain/errors';
import type { EndpointLimits } from '../oauth/token-limits';
import type { DpopProofs } from '../tokens/dpop';
import { addressKey } from '../oauth/token-limits';
import { noStore } from '../oauth/middleware';
import { tokenEndpoint } from '../oauth/token-endpoint';
import { IntrospectionRequest, RevocationRequest, TokenRequest } from '../schemas/oauth';
import { Introspection, RevocationResponse, TokenResponse } from '../schemas/responses';
import { auth, manifest } from './manifest';

export interface OAuthRouteDeps {
  tokens: TokenService;
  /** Workload identity federation (platform tokens as client assertions). */
  federation: FederationService;
  limits: EndpointLimits;
  metrics: Metrics;
  bodyLimitBytes: number;
  /** The token endpoint's DPoP proofs. */
  dpop: DpopProofs;
}

/**
 * Revocation without credentials (the token is its own proof) is limited per client address: each
 * request costs a signature check, and a signing-key lookup for an unknown kid.
 */
function limitAnonymous(limits: EndpointLimits) {
  return function limitAnonymous(req: Request, _res: Response, next: NextFunction): void {
    if (req.headers.authorization) return next();
    const wait = limits.anonymousRevocations.take(`ip:${addressKey(req.ip)}`);
    if (wait > 0) return next(new RateLimitedError('Too many revocation requests from this address; retry later', wait, 'revoke_rate_limited'));
    next();
  };
}

/** The endpoints every agent and relying service calls: on the direct lane (http/direct-lane.ts). */
const oauth = { reads: 'oauth_params', errorShape: 'oauth', lane: 'direct' } as const;

/** The authorization endpoint the organization issuers' metadata advertises. */
export const AUTHORIZATION_ENDPOINT_PATH = '/v1/oauth/authorize';

const NO_AUTHORIZATION =
  'This issuer serves agents through the client credentials grant with private_key_jwt (POST /v1/oauth/token); ' +
  'it issues no authorization codes or implicit tokens, so this endpoint supports no response_type';

export const oauthRoutes = manifest<OAuthRouteDeps>('oauth', (route) => [
  {
    ...oauth, method: 'post', path: '/v1/oauth/token', summary: 'Access token: grant_type=client_credentials with a private_key_jwt client_assertion (RFC 7523)',
    auth: auth.none, body: TokenRequest, responses: { 200: TokenResponse }, errors: [401, 429],
    steps: (deps) => tokenEndpoint(deps),
  },
  // RFC 8414 requires an authorization_endpoint and the MCP clients' metadata schemas insist on
  // one. Nothing is ever redirected: there is no registered redirect_uri to trust, and RFC 6749
  // §4.1.2.1 says an error is then shown to the caller directly. The query is not read at all.
  route({
    method: 'get', path: AUTHORIZATION_ENDPOINT_PATH, summary: 'Authorization endpoint: always 400 unsupported_response_type, answered directly (agents use the client credentials grant)',
    reads: 'nothing', errorShape: 'oauth', auth: auth.none, responses: {}, errors: [400],
    before: () => [noStore],
    handle: async () => {
      throw new UnsupportedResponseTypeError(NO_AUTHORIZATION);
    },
  }),
  // Relying services: any API key of the organization; the introspector role can do this and nothing else.
  route({
    ...oauth, method: 'post', path: '/v1/oauth/introspect', summary: 'Token introspection (RFC 7662): active only while unrevoked, agent active, session open',
    auth: auth.apiKey('introspector'), body: IntrospectionRequest, responses: { 200: Introspection },
    before: () => [noStore],
    handle: async ({ caller, body }, { tokens, metrics }) => {
      const answer = await tokens.introspect(body.token, caller.key.organizationId);
      metrics.introspection(answer.active ? 'active' : 'inactive');
      return { body: answer };
    },
  }),
  // An operator API key, the agent (its access token as Bearer), or no credential at all: the
  // token in the body is then its own proof (revoking a token you hold is always allowed).
  route({
    ...oauth, method: 'post', path: '/v1/oauth/revoke', summary: 'Token revocation (RFC 7009): an operator API key, the agent\'s token, or the token itself; 200 whether or not the token was valid',
    auth: auth.apiKeyOrAgent('operator', { anonymous: true, delegatedTokens: true }), body: RevocationRequest, responses: { 200: RevocationResponse },
    before: ({ limits }) => [limitAnonymous(limits), noStore],
    handle: async ({ caller, body, request }, { tokens }) => {
      await tokens.revoke(body.token, { apiKey: caller.kind === 'api_key' ? caller.key : undefined, agent: caller.kind === 'agent' ? caller.claims : undefined }, request);
      return { body: {} };
    },
  }),
]);
