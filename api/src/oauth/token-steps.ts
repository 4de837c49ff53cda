/**
 * The token endpoint's named steps that more than one grant uses: authenticate the client (by
 * whichever registered method the request uses, client-auth/), check the requested scopes, claim
 * the assertion, issue the token. State passes between steps on `res.locals` (TokenLocals); errors
 * are domain errors, rendered as RFC 6749 bodies by the router's error handler (oauth/errors.ts).
 */
import type { NextFunction, Request, Response } from 'express';
import type { AuthenticatedClient, ClientAuthResult, IssueOptions, TokenService } from '../services/tokens';
import { ASSERTION_LEEWAY_SECONDS } from '../services/tokens';
import { DomainError, InvalidClientError, RateLimitedError, ValidationError } from '../domain/errors';
import { bodyParam, requestInfo, sendJson } from './middleware';
import type { EndpointLimits } from './token-limits';
import type { Metrics } from '../metrics/metrics';
import type { FederationService } from '../services/federation';
import { CLIENT_AUTH_METHODS } from './client-auth';
import type { DpopProofs } from '../tokens/dpop';

export interface TokenEndpointDeps {
  tokens: TokenService;
  /** Workload identity federation (client-auth/federated-jwt.ts); absent: platform tokens are refused. */
  federation?: FederationService;
  limits: EndpointLimits;
  bodyLimitBytes: number;
  metrics?: Metrics;
  /** The token endpoint's DPoP proofs (replay cache, nonces): proofs/dpop.ts. */
  dpop: DpopProofs;
}

export interface TokenLocals {
  client?: AuthenticatedClient;
  /** null: all of the agent's scopes. */
  scopes?: string[] | null;
  /** RFC 8707 resources (the token's audience); set by parseResources. */
  resources?: string[];
  /** What earlier steps of a grant add to the token (claims such as `cnf` or `act`). */
  issue?: Omit<IssueOptions, 'resources'>;
}

export const tokenLocals = (res: Response) => res.locals as TokenLocals;

const throttled = (wait: number) => new RateLimitedError('Too many failed authentication attempts; retry later', wait, 'throttled');

/**
 * Answers a failed authentication. Within the failure budgets of the client address and of the
 * agent the request names, the failure is audited (coalesced) or logged, and answered with its
 * own error; over either budget it is only counted and answered 429 slow_down. The budgets are
 * consulted only for requests that have failed: they never stand between a valid assertion and
 * its token.
 */
export function refuse(deps: TokenEndpointDeps, req: Request, result: Extract<ClientAuthResult, { ok: false }>, next: NextFunction): void {
  const wait = deps.limits.failures.recordFailure(req.ip, result.agent?.id ?? result.claimedAgentId);
  deps.tokens.recordFailure(result, requestInfo(req), wait > 0);
  next(wait > 0 ? throttled(wait) : result.error);
}

/**
 * Client authentication: the first registered method (client-auth/index.ts) that recognises the
 * request's parameters authenticates it. Credentials go in the body, never in an Authorization
 * header (no client here has a password).
 */
export function authenticateClient(deps: TokenEndpointDeps) {
  return async function authenticateClient(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (req.headers.authorization) return next(new ValidationError('Authenticate with client_assertion (private_key_jwt), not an Authorization header'));
    const assertionType = bodyParam(req, 'client_assertion_type');
    const assertion = bodyParam(req, 'client_assertion');
    if (assertionType === undefined || assertion === undefined) {
      return next(new ValidationError('client_assertion_type and client_assertion are required (private_key_jwt)'));
    }
    const params = { assertionType, assertion, clientId: bodyParam(req, 'client_id') };
    const method = CLIENT_AUTH_METHODS.find((m) => m.recognizes(params));
    if (!method) return next(new ValidationError(`Unsupported client_assertion_type; supported: ${[...new Set(CLIENT_AUTH_METHODS.map((m) => m.assertionType))].join(', ')}`));
    const result = await method.authenticate(params, deps);
    if (!result.ok) return refuse(deps, req, result, next);
    tokenLocals(res).client = result.client;
    next();
  };
}

export function validateScope(tokens: TokenService) {
  return async function validateScope(req: Request, res: Response, next: NextFunction): Promise<void> {
    const client = tokenLocals(res).client!;
    try {
      tokenLocals(res).scopes = await tokens.grantedScopes(client, bodyParam(req, 'scope'));
    } catch (err) {
      if (err instanceof DomainError) {
        tokens.recordFailure({ ok: false, error: err, agent: { id: client.agentId, orgId: client.orgId }, method: client.method }, requestInfo(req));
      }
      return next(err);
    }
    next();
  };
}

/**
 * Synchronously, so that concurrent requests carrying one single-use assertion cannot both pass:
 * a jti this replica has already passed on is refused as a replay without a database round trip
 * (the issuing transaction stays the authority across replicas); then the agent's success budget.
 */
export function claimAssertion(deps: TokenEndpointDeps) {
  return function claimAssertion(req: Request, res: Response, next: NextFunction): void {
    const c = tokenLocals(res).client!;
    const agent = { id: c.agentId, orgId: c.orgId };
    // A platform token (federated) may be presented again until it expires: it is never spent.
    const singleUse = c.federated === undefined;
    if (singleUse && deps.limits.spent.has(c.agentId, c.assertionJti)) {
      return refuse(deps, req, { ok: false, error: new InvalidClientError('client_assertion was already used (jti replay)', 'assertion_replayed'), agent, method: c.method }, next);
    }
    const wait = deps.limits.successes.take(c.agentId);
    if (wait > 0) {
      const error = new RateLimitedError('Too many token requests for this agent; retry later', wait, 'token_rate_limited');
      deps.tokens.recordFailure({ ok: false, error, agent, method: c.method }, requestInfo(req));
      return next(error);
    }
    if (singleUse) deps.limits.spent.add(c.agentId, c.assertionJti, c.assertionExpiresAt.getTime() + ASSERTION_LEEWAY_SECONDS * 1000);
    next();
  };
}

export function issueToken(deps: TokenEndpointDeps) {
  return async function issueToken(req: Request, res: Response, next: NextFunction): Promise<void> {
    const { client, scopes, resources, issue } = tokenLocals(res);
    try {
      sendJson(res, 200, await deps.tokens.issue(client!, scopes ?? null, requestInfo(req), { ...issue, resources }));
      deps.metrics?.tokenRequest('issued');
    } catch (err) {
      deps.limits.successes.refund(client!.agentId); // no token was issued
      // A refusal at commit (replay on another replica, key removed, agent no longer active, audited
      // by the writer) or an error: either is a failure, and counts against the failure budgets,
      // so that requests which keep failing the same way are throttled like any other failure.
      const wait = deps.limits.failures.recordFailure(req.ip, client!.agentId);
      // An error did not necessarily consume the assertion; the database decides a retry.
      if (!(err instanceof DomainError)) deps.limits.spent.delete(client!.agentId, client!.assertionJti);
      next(wait > 0 ? throttled(wait) : err);
    }
  };
}
