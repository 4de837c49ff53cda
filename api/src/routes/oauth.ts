/**
 * /v1/oauth: the token endpoint (client credentials + private_key_jwt), introspection (RFC 7662)
 * and revocation (RFC 7009). Errors use the OAuth shape `{error, error_description}`.
 */
import { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from '../logger';
import type { TokenService } from '../services/tokens';
import { OAuthError, oauthErrorHandler, invalidRequest } from '../oauth/errors';
import type { EndpointLimits } from '../oauth/token-limits';
import { addressKey } from '../oauth/token-limits';
import { bodyParam, noStore, parseBody, rejectDupes, requestInfo, sendJson } from '../oauth/middleware';
import { tokenEndpoint } from '../oauth/token-endpoint';
import { agentClaims, authenticateCaller, CallerAuthDeps } from '../tokens/http-auth';

export interface OAuthRouterDeps extends CallerAuthDeps {
  tokens: TokenService;
  limits: EndpointLimits;
  bodyLimitBytes: number;
  logger: Logger;
}

/**
 * Revocation without credentials (the token is its own proof) is limited per client address: each
 * request costs a signature check, and a signing-key lookup for an unknown kid.
 */
function limitAnonymous(limits: EndpointLimits) {
  return function limitAnonymous(req: Request, _res: Response, next: NextFunction): void {
    if (req.get('authorization')) return next();
    const wait = limits.anonymousRevocations.take(`ip:${addressKey(req.ip)}`);
    if (wait > 0) return next(new OAuthError(429, 'slow_down', 'Too many revocation requests from this address; retry later', 'revoke_rate_limited', wait));
    next();
  };
}

function requireTokenParam(req: Request, _res: Response, next: NextFunction): void {
  const token = bodyParam(req, 'token');
  if (!token) return next(invalidRequest('The token parameter is required'));
  next();
}

export function oauthRouter(deps: OAuthRouterDeps): Router {
  const r = Router();
  const common = [noStore, parseBody(deps.bodyLimitBytes), rejectDupes];

  r.post('/token', ...tokenEndpoint(deps));

  // Relying services: any API key of the organization (reader is enough).
  r.post('/introspect', ...common, authenticateCaller(deps, { apiKeyRole: 'reader' }), requireTokenParam, async (req, res) => {
    const answer = await deps.tokens.introspect(bodyParam(req, 'token')!, req.apiKey!.organizationId);
    deps.metrics?.introspection(answer.active ? 'active' : 'inactive');
    sendJson(res, 200, answer);
  });

  // An operator API key, the agent (its access token as Bearer), or no credential at all: the
  // token in the body is then its own proof (revoking a token you hold is always allowed).
  r.post('/revoke', limitAnonymous(deps.limits), ...common, authenticateCaller(deps, { apiKeyRole: 'operator', agent: true, optional: true }), requireTokenParam, async (req, res) => {
    await deps.tokens.revoke(bodyParam(req, 'token')!, { apiKey: req.apiKey, agent: agentClaims(res) }, requestInfo(req));
    sendJson(res, 200, {});
  });

  r.use(oauthErrorHandler(deps.logger));
  return r;
}
