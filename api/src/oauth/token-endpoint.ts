/**
 * POST /v1/oauth/token — as a chain of small named steps: the shared ones (no-store, body,
 * resources, no repeated parameters), then the steps of the grant the request names (grants/),
 * which authenticate the client by one of the registered methods (client-auth/). Errors are
 * domain errors, rendered as RFC 6749 bodies by the router's error handler (oauth/errors.ts).
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { runChain } from '../http/chain';
import { DomainError, UnsupportedGrantTypeError, ValidationError } from '../domain/errors';
import { oauthErrorFor } from './errors';
import { bodyParam, noStore, parseBody, rejectDupes } from './middleware';
import { parseResources } from './resource';
import type { TokenOutcome } from '../metrics/metrics';
import { TOKEN_OUTCOMES } from '../metrics/metrics';
import { GRANTS } from './grants';
import type { TokenEndpointDeps } from './token-steps';

export type { TokenEndpointDeps } from './token-steps';

/** Hands the request to the steps of its grant_type. */
function dispatchGrant(deps: TokenEndpointDeps): RequestHandler {
  const chains = new Map(GRANTS.map((g) => [g.grantType, g.steps(deps)]));
  const supported = GRANTS.map((g) => g.grantType).join(', ');
  return function dispatchGrant(req: Request, res: Response, next: NextFunction): void {
    const grant = bodyParam(req, 'grant_type');
    if (grant === undefined) return next(new ValidationError('grant_type is required'));
    const chain = chains.get(grant);
    if (!chain) return next(new UnsupportedGrantTypeError(`Unsupported grant_type; supported: ${supported}`));
    runChain(chain, req, res, next);
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
  return [noStore, parseBody(deps.bodyLimitBytes), parseResources, rejectDupes, dispatchGrant(deps), countRefusal(deps)];
}
