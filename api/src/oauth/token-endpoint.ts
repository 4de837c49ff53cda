/**
 * POST /v1/oauth/token — OAuth 2.0 client credentials (RFC 6749 §4.4) with private_key_jwt client
 * authentication (RFC 7523), as a chain of small named steps. State passes between steps on
 * `res.locals` (client, scopes); errors are domain errors, rendered as RFC 6749 bodies by the
 * router's error handler (oauth/errors.ts).
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { TokenService, AuthenticatedClient, ClientAuthResult } from '../services/tokens';
import { ASSERTION_LEEWAY_SECONDS, CLIENT_ASSERTION_TYPE } from '../services/tokens';
import { DecodedJws, decodeJws } from '../crypto/jws';
import { DomainError, InvalidClientError, RateLimitedError, UnsupportedGrantTypeError, ValidationError } from '../domain/errors';
import { oauthErrorFor } from './errors';
import { bodyParam, noStore, parseBody, rejectDupes, requestInfo, sendJson } from './middleware';
import { parseResources } from './resource';
import type { EndpointLimits } from './token-limits';
import type { Metrics, TokenOutcome } from '../metrics/metrics';
import { TOKEN_OUTCOMES } from '../metrics/metrics';

export interface TokenEndpointDeps {
  tokens: TokenService;
  limits: EndpointLimits;
  bodyLimitBytes: number;
  metrics?: Metrics;
}

interface TokenLocals {
  /** The client assertion, decoded once (null when malformed). */
  assertion?: DecodedJws | null;
  client?: AuthenticatedClient;
  /** null: all of the agent's scopes. */
  scopes?: string[] | null;
  /** RFC 8707 resources (the token's audience); set by parseResources. */
  resources?: string[];
}

const locals = (res: Response) => res.locals as TokenLocals;

function checkGrantType(req: Request, _res: Response, next: NextFunction): void {
  const grant = bodyParam(req, 'grant_type');
  if (grant === undefined) return next(new ValidationError('grant_type is required'));
  if (grant !== 'client_credentials') return next(new UnsupportedGrantTypeError('Only grant_type=client_credentials is supported'));
  next();
}

function checkClientAssertion(req: Request, res: Response, next: NextFunction): void {
  const type = bodyParam(req, 'client_assertion_type');
  const assertion = bodyParam(req, 'client_assertion');
  if (req.get('authorization')) return next(new ValidationError('Authenticate with client_assertion (private_key_jwt), not an Authorization header'));
  if (type === undefined || assertion === undefined) return next(new ValidationError('client_assertion_type and client_assertion are required (private_key_jwt)'));
  if (type !== CLIENT_ASSERTION_TYPE) return next(new ValidationError(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`));
  locals(res).assertion = decodeJws(assertion);
  next();
}

/**
 * Answers a failed authentication. Within the failure budgets of the client address and of the
 * agent the assertion names, the failure is audited (coalesced) or logged, and answered with its
 * own error; over either budget it is only counted and answered 429 slow_down. The budgets are
 * consulted only for requests that have failed: they never stand between a valid assertion and
 * its token.
 */
function refuse(deps: TokenEndpointDeps, req: Request, result: Extract<ClientAuthResult, { ok: false }>, next: NextFunction): void {
  const wait = deps.limits.failures.recordFailure(req.ip, result.agent?.id ?? result.claimedAgentId);
  deps.tokens.recordFailure(result, requestInfo(req), wait > 0);
  next(wait > 0 ? throttled(wait) : result.error);
}

const throttled = (wait: number) => new RateLimitedError('Too many failed authentication attempts; retry later', wait, 'throttled');

function authenticateClient(deps: TokenEndpointDeps) {
  return async function authenticateClient(req: Request, res: Response, next: NextFunction): Promise<void> {
    const result = await deps.tokens.authenticateClient(locals(res).assertion ?? null, bodyParam(req, 'client_id'));
    if (!result.ok) return refuse(deps, req, result, next);
    locals(res).client = result.client;
    next();
  };
}

function validateScope(tokens: TokenService) {
  return async function validateScope(req: Request, res: Response, next: NextFunction): Promise<void> {
    const client = locals(res).client!;
    try {
      locals(res).scopes = await tokens.grantedScopes(client, bodyParam(req, 'scope'));
    } catch (err) {
      if (err instanceof DomainError) {
        tokens.recordFailure({ ok: false, error: err, agent: { id: client.agentId, orgId: client.orgId } }, requestInfo(req));
      }
      return next(err);
    }
    next();
  };
}

/**
 * Synchronously, so that concurrent requests carrying one assertion cannot both pass: a jti this
 * replica has already passed on is refused as a replay without a database round trip (the
 * issuing transaction stays the authority across replicas); then the agent's success budget.
 */
function claimAssertion(deps: TokenEndpointDeps) {
  return function claimAssertion(req: Request, res: Response, next: NextFunction): void {
    const c = locals(res).client!;
    const agent = { id: c.agentId, orgId: c.orgId };
    if (deps.limits.spent.has(c.agentId, c.assertionJti)) {
      return refuse(deps, req, { ok: false, error: new InvalidClientError('client_assertion was already used (jti replay)', 'assertion_replayed'), agent }, next);
    }
    const wait = deps.limits.successes.take(c.agentId);
    if (wait > 0) {
      const error = new RateLimitedError('Too many token requests for this agent; retry later', wait, 'token_rate_limited');
      deps.tokens.recordFailure({ ok: false, error, agent }, requestInfo(req));
      return next(error);
    }
    deps.limits.spent.add(c.agentId, c.assertionJti, c.assertionExpiresAt.getTime() + ASSERTION_LEEWAY_SECONDS * 1000);
    next();
  };
}

function issueToken(deps: TokenEndpointDeps) {
  return async function issueToken(req: Request, res: Response, next: NextFunction): Promise<void> {
    const { client, scopes } = locals(res);
    try {
      sendJson(res, 200, await deps.tokens.issue(client!, scopes ?? null, requestInfo(req), locals(res).resources));
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

const OUTCOMES = new Set<string>(TOKEN_OUTCOMES);

/** The metrics outcome of a refused token request: its OAuth error code, or why it was throttled. */
function outcomeOf(err: unknown): TokenOutcome {
  const { error } = oauthErrorFor(err);
  if (error === 'slow_down') return err instanceof DomainError && err.reason === 'token_rate_limited' ? 'rate_limited' : 'throttled';
  return OUTCOMES.has(error) ? (error as TokenOutcome) : 'server_error';
}

/** Counts the refusal, then hands the error on to the router's OAuth error handler. */
function countRefusal(deps: TokenEndpointDeps) {
  return function countRefusal(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
    deps.metrics?.tokenRequest(outcomeOf(err));
    next(err);
  };
}

export function tokenEndpoint(deps: TokenEndpointDeps): Array<RequestHandler | ErrorRequestHandler> {
  return [
    noStore,
    parseBody(deps.bodyLimitBytes),
    parseResources,
    rejectDupes,
    checkGrantType,
    checkClientAssertion,
    authenticateClient(deps),
    validateScope(deps.tokens),
    claimAssertion(deps),
    issueToken(deps),
    countRefusal(deps),
  ];
}
