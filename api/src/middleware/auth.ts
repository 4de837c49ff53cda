/**
 * The one authenticator: every route's `auth` descriptor (routes/manifest.ts) is enforced here.
 * `Authorization: Bearer aa_…` is an organization API key (checked against the role rank of
 * model/roles.ts); any other bearer is an agent's access token, fully validated (signature,
 * revocation, agent status, session state) and minted for the control plane (its audience); a
 * DPoP-bound one (cnf.jkt) only as `Authorization: DPoP` with a proof for the request by its key
 * (model/dpop.ts). Every authenticated request spends one token of its
 * caller's budget in the process's one RequestLimiter (`key:<id>` or `agent:<id>`); a failed
 * authentication spends the client address's (`ip:<address>`).
 */
import type { Request } from 'express';
import { roleAtLeast, roleRefusal } from '../../../model/roles';
import { API_KEY_PREFIX } from '../crypto/api-keys';
import { DomainError, ForbiddenError, UnauthenticatedError } from '../errors';
import { parseAuthorization } from '../../../model/dpop';
import type { AuditContext } from '../services/audit';
import type { AuthenticatedKey } from '../services/organizations';
import { tokenHolder, type AccessTokenClaims } from '../services/tokens';
import type { ApiKeyCaller, Caller, RequestInfo, RouteAuth } from '../routes/manifest';
import type { RequestLimiter } from './rate-limit';
import type { DpopProofs } from '../tokens/dpop';
import { dpopError, dpopHeader } from '../oauth/proofs/dpop';

/** The credential of `Authorization: Bearer …` or `Authorization: DPoP …` (RFC 9449 §7.1). */
export function presentedCredential(req: Request): { scheme: 'bearer' | 'dpop'; token: string } | undefined {
  return parseAuthorization(req.headers.authorization);
}

/** Anything that resolves a presented API key: the organization service, or a cache in front of it. */
export interface ApiKeyResolver {
  authenticate(presented: string): Promise<AuthenticatedKey | null>;
}

/** Validates an agent's access token (the token service). */
export interface AccessTokenValidator {
  validate(token: string): Promise<AccessTokenClaims | null>;
  /** The token's audience is this control plane (not a relying service it was minted for). */
  isForControlPlane(claims: AccessTokenClaims): boolean;
}

export interface AuthenticatorDeps {
  apiKeys: ApiKeyResolver;
  tokens: AccessTokenValidator;
  /** The process's one per-caller request limiter. */
  limiter: RequestLimiter;
  /** DPoP proofs of DPoP-bound tokens on these routes (their own replay cache). */
  dpop: DpopProofs;
  /** The public base URL, without a trailing slash: a proof's `htu` is this plus the request path. */
  baseUrl: string;
}

const ANONYMOUS: Caller = { kind: 'anonymous' };
const INVALID_API_KEY = 'The API key is invalid or revoked';

export class Authenticator {
  constructor(private readonly deps: AuthenticatorDeps) {}

  /** The caller of `req` as `auth` allows it; throws UnauthenticatedError (401), ForbiddenError (403) or RateLimitedError (429). */
  async authenticate(req: Request, auth: RouteAuth): Promise<Caller> {
    if (auth.kind === 'none') return ANONYMOUS;
    const credential = presentedCredential(req);
    const token = credential?.token;
    if (!token) {
      if (auth.kind === 'api_key_or_agent' && auth.anonymous && !req.headers.authorization) return ANONYMOUS;
      throw new UnauthenticatedError(auth.kind === 'api_key' ? 'Send an API key: Authorization: Bearer aa_…' : 'Send an agent access token or an API key: Authorization: Bearer …');
    }
    if (token.startsWith(API_KEY_PREFIX)) {
      if (credential.scheme === 'dpop') throw new UnauthenticatedError('Send an API key as Authorization: Bearer aa_…');
      return this.apiKey(req, token, auth);
    }
    return this.agent(req, token, credential.scheme, auth);
  }

  private async apiKey(req: Request, token: string, auth: Exclude<RouteAuth, { kind: 'none' }>): Promise<Caller> {
    const key = await this.deps.apiKeys.authenticate(token);
    if (!key) {
      await this.deps.limiter.take(`ip:${req.ip}`); // failed guesses count against the client address
      throw new UnauthenticatedError(INVALID_API_KEY);
    }
    await this.deps.limiter.take(`key:${key.id}`);
    if (auth.kind === 'agent') throw new ForbiddenError('This call must be made by an agent with its access token');
    if (!roleAtLeast(key.role, auth.role)) throw new ForbiddenError(roleRefusal(auth.role, key.role));
    return { kind: 'api_key', key };
  }

  private async agent(req: Request, token: string, scheme: 'bearer' | 'dpop', auth: Exclude<RouteAuth, { kind: 'none' }>): Promise<Caller> {
    const claims = await this.deps.tokens.validate(token);
    if (!claims) {
      await this.deps.limiter.take(`ip:${req.ip}`);
      // On a route that takes only API keys the caller meant one (a mistyped or truncated key need
      // not keep the aa_ prefix): say so in those terms, not in an agent's.
      throw new UnauthenticatedError(auth.kind === 'api_key' ? `${INVALID_API_KEY} (an API key begins with ${API_KEY_PREFIX})` : 'The access token is invalid, expired or revoked');
    }
    const refusal = await this.proofRefusal(req, token, scheme, claims);
    if (refusal) {
      await this.deps.limiter.take(`ip:${req.ip}`);
      throw refusal;
    }
    // A delegated token spends its holder's budget (the current actor's), not its subject's.
    await this.deps.limiter.take(`agent:${tokenHolder(claims)}`);
    // RFC 6750 invalid_token: a genuine token, but minted for another service (its `resource`).
    if (!this.deps.tokens.isForControlPlane(claims)) {
      throw new UnauthenticatedError('The access token was issued for another audience; request one without resource (or with this server\'s URL) to call the control plane', [{ path: 'authorization', message: 'wrong_audience' }]);
    }
    if (auth.kind === 'api_key') throw new ForbiddenError('This call needs an API key');
    if (claims.act !== undefined && !(auth.kind === 'api_key_or_agent' && auth.delegatedTokens)) {
      throw new ForbiddenError('A delegated token acts for its subject at resource servers only; at the control plane it can only revoke itself', [{ path: 'authorization', message: 'delegated_token' }]);
    }
    if (auth.kind === 'agent' && !auth.sessionTokens && claims.sid !== undefined) {
      throw new ForbiddenError('A session token cannot make this call; use the agent\'s access token', [{ path: 'authorization', message: 'session_token' }]);
    }
    return { kind: 'agent', claims };
  }

  /** The DPoP rules of model/dpop.ts (checkDpopPresentation) for this request: a refusal, or undefined. */
  private async proofRefusal(req: Request, token: string, scheme: 'bearer' | 'dpop', claims: AccessTokenClaims): Promise<DomainError | undefined> {
    const result = await this.deps.dpop.checkPresentation({
      scheme, token, jkt: claims.cnf?.jkt, proof: dpopHeader(req), htm: req.method, htu: `${this.deps.baseUrl}${req.originalUrl.split('?')[0]}`,
    });
    if (result.ok) return undefined;
    return result.error === 'invalid_token' ? new UnauthenticatedError(result.message, [], result.reason) : dpopError(result);
  }
}

/** The audit context of a change made with an API key. */
export function auditContext(caller: ApiKeyCaller, request: RequestInfo): AuditContext {
  return { organizationId: caller.key.organizationId, actorType: 'api_key', actorId: caller.key.id, requestId: request.requestId, clientIp: request.clientIp };
}
