/**
 * The one authenticator: every route's `auth` descriptor (routes/manifest.ts) is enforced here.
 * `Authorization: Bearer aa_…` is an organization API key (checked against the role rank of
 * model/roles.ts); any other bearer is an agent's access token, fully validated (signature,
 * revocation, agent status, session state). Every authenticated request spends one token of its
 * caller's budget in the process's one RequestLimiter (`key:<id>` or `agent:<id>`); a failed
 * authentication spends the client address's (`ip:<address>`).
 */
import type { Request } from 'express';
import { roleAtLeast, roleRefusal } from '../../../model/roles';
import { API_KEY_PREFIX } from '../crypto/api-keys';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import type { AuditContext } from '../services/audit';
import type { AuthenticatedKey } from '../services/organizations';
import { tokenHolder, type AccessTokenClaims } from '../services/tokens';
import type { ApiKeyCaller, Caller, RequestInfo, RouteAuth } from '../routes/manifest';
import type { RequestLimiter } from './rate-limit';

export function bearerToken(req: Request): string | undefined {
  const h = req.get('authorization');
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** Anything that resolves a presented API key: the organization service, or a cache in front of it. */
export interface ApiKeyResolver {
  authenticate(presented: string): Promise<AuthenticatedKey | null>;
}

/** Validates an agent's access token (the token service). */
export interface AccessTokenValidator {
  validate(token: string): Promise<AccessTokenClaims | null>;
}

export interface AuthenticatorDeps {
  apiKeys: ApiKeyResolver;
  tokens: AccessTokenValidator;
  /** The process's one per-caller request limiter. */
  limiter: RequestLimiter;
}

const ANONYMOUS: Caller = { kind: 'anonymous' };

export class Authenticator {
  constructor(private readonly deps: AuthenticatorDeps) {}

  /** The caller of `req` as `auth` allows it; throws UnauthenticatedError (401), ForbiddenError (403) or RateLimitedError (429). */
  async authenticate(req: Request, auth: RouteAuth): Promise<Caller> {
    if (auth.kind === 'none') return ANONYMOUS;
    const token = bearerToken(req);
    if (!token) {
      if (auth.kind === 'api_key_or_agent' && auth.anonymous && !req.get('authorization')) return ANONYMOUS;
      throw new UnauthenticatedError(auth.kind === 'api_key' ? 'Send an API key: Authorization: Bearer aa_…' : 'Send an agent access token or an API key: Authorization: Bearer …');
    }
    return token.startsWith(API_KEY_PREFIX) ? this.apiKey(req, token, auth) : this.agent(req, token, auth);
  }

  private async apiKey(req: Request, token: string, auth: Exclude<RouteAuth, { kind: 'none' }>): Promise<Caller> {
    const key = await this.deps.apiKeys.authenticate(token);
    if (!key) {
      await this.deps.limiter.take(`ip:${req.ip}`); // failed guesses count against the client address
      throw new UnauthenticatedError('The API key is invalid or revoked');
    }
    await this.deps.limiter.take(`key:${key.id}`);
    if (auth.kind === 'agent') throw new ForbiddenError('This call must be made by an agent with its access token');
    if (!roleAtLeast(key.role, auth.role)) throw new ForbiddenError(roleRefusal(auth.role, key.role));
    return { kind: 'api_key', key };
  }

  private async agent(req: Request, token: string, auth: Exclude<RouteAuth, { kind: 'none' }>): Promise<Caller> {
    const claims = await this.deps.tokens.validate(token);
    if (!claims) {
      await this.deps.limiter.take(`ip:${req.ip}`);
      throw new UnauthenticatedError('The access token is invalid, expired or revoked');
    }
    // A delegated token spends its holder's budget (the current actor's), not its subject's.
    await this.deps.limiter.take(`agent:${tokenHolder(claims)}`);
    if (auth.kind === 'api_key') throw new ForbiddenError('This call needs an API key');
    if (claims.act !== undefined && !(auth.kind === 'api_key_or_agent' && auth.delegatedTokens)) {
      throw new ForbiddenError('A delegated token acts for its subject at resource servers only; at the control plane it can only revoke itself', [{ path: 'authorization', message: 'delegated_token' }]);
    }
    if (auth.kind === 'agent' && !auth.sessionTokens && claims.sid !== undefined) {
      throw new ForbiddenError('A session token cannot make this call; use the agent\'s access token', [{ path: 'authorization', message: 'session_token' }]);
    }
    return { kind: 'agent', claims };
  }
}

/** The audit context of a change made with an API key. */
export function auditContext(caller: ApiKeyCaller, request: RequestInfo): AuditContext {
  return { organizationId: caller.key.organizationId, actorType: 'api_key', actorId: caller.key.id, requestId: request.requestId, clientIp: request.clientIp };
}
