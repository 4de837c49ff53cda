/**
 * Who is calling an auth-module route: an organization API key (`Bearer aa_…`, cached verification)
 * or an agent (`Bearer <access token>`, fully validated: signature, revocation, status, session).
 * API keys land on `req.apiKey` (so `auditContext` and `requireRole` work as elsewhere); agents on
 * `res.locals.agent`.
 */
import type { NextFunction, Request, Response } from 'express';
import { bearerToken } from '../middleware/auth';
import type { RequestLimiter } from '../middleware/rate-limit';
import type { Metrics } from '../metrics/metrics';
import type { ApiKeyRole } from '../db/tables';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import { API_KEY_PREFIX } from '../crypto/api-keys';
import type { AccessTokenClaims, TokenService } from '../services/tokens';
import type { ApiKeyAuthenticator } from './api-key-cache';

const RANK: Record<ApiKeyRole, number> = { reader: 0, operator: 1, admin: 2 };

export interface CallerAuthDeps {
  apiKeys: ApiKeyAuthenticator;
  tokens: TokenService;
  /** The process's one per-caller request limiter (shared with the /v1 routes). */
  limiter: RequestLimiter;
  metrics?: Metrics;
}

export interface CallerPolicy {
  /** Minimum API-key role; undefined refuses API keys. */
  apiKeyRole?: ApiKeyRole;
  /** Accept agent access tokens. */
  agent?: boolean;
  /** Let requests without credentials through (the handler decides). */
  optional?: boolean;
}

export function agentClaims(res: Response): AccessTokenClaims | undefined {
  return (res.locals as { agent?: AccessTokenClaims }).agent;
}

export function authenticateCaller(deps: CallerAuthDeps, policy: CallerPolicy) {
  return async function authenticateCaller(req: Request, res: Response, next: NextFunction): Promise<void> {
    const token = bearerToken(req);
    if (!token) {
      if (policy.optional && !req.get('authorization')) return next();
      return next(new UnauthenticatedError(policy.agent ? 'Send an agent access token or an API key: Authorization: Bearer …' : 'Send an API key: Authorization: Bearer aa_…'));
    }
    if (token.startsWith(API_KEY_PREFIX)) {
      const key = await deps.apiKeys.authenticate(token);
      if (!key) {
        await deps.limiter.take(`ip:${req.ip}`);
        return next(new UnauthenticatedError('The API key is invalid or revoked'));
      }
      await deps.limiter.take(`key:${key.id}`);
      if (policy.apiKeyRole === undefined) return next(new ForbiddenError('This call must be made by an agent with its access token'));
      if (RANK[key.role] < RANK[policy.apiKeyRole]) return next(new ForbiddenError(`This call needs the ${policy.apiKeyRole} role; the key has ${key.role}`));
      req.apiKey = key;
      return next();
    }
    const claims = await deps.tokens.validate(token);
    if (!claims) {
      await deps.limiter.take(`ip:${req.ip}`);
      return next(new UnauthenticatedError('The access token is invalid, expired or revoked'));
    }
    await deps.limiter.take(`agent:${claims.sub}`);
    if (!policy.agent) return next(new ForbiddenError('This call needs an API key'));
    (res.locals as { agent?: AccessTokenClaims }).agent = claims;
    next();
  };
}
