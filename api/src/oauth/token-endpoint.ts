/**
 * POST /v1/oauth/token — OAuth 2.0 client credentials (RFC 6749 §4.4) with private_key_jwt client
 * authentication (RFC 7523), as a chain of small named steps. State passes between steps on
 * `res.locals` (client, scopes); errors are OAuthErrors rendered by the router's error handler.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TokenService, AuthenticatedClient } from '../services/tokens';
import { CLIENT_ASSERTION_TYPE } from '../services/tokens';
import { isUuid } from '../crypto/ids';
import { DecodedJws, decodeJws } from '../tokens/jws';
import { OAuthError, invalidRequest } from './errors';
import type { FailureLimiter } from './failure-limiter';
import { bodyParam, noStore, parseBody, rejectDupes, requestInfo, sendJson } from './middleware';

export interface TokenEndpointDeps {
  tokens: TokenService;
  failures: FailureLimiter;
  bodyLimitBytes: number;
}

interface TokenLocals {
  /** The client assertion, decoded once (null when malformed). */
  assertion?: DecodedJws | null;
  claimedAgentId?: string;
  client?: AuthenticatedClient;
  /** null: all of the agent's scopes. */
  scopes?: string[] | null;
}

const locals = (res: Response) => res.locals as TokenLocals;

function checkGrantType(req: Request, _res: Response, next: NextFunction): void {
  const grant = bodyParam(req, 'grant_type');
  if (grant === undefined) return next(invalidRequest('grant_type is required'));
  if (grant !== 'client_credentials') return next(new OAuthError(400, 'unsupported_grant_type', 'Only grant_type=client_credentials is supported'));
  next();
}

function checkClientAssertion(req: Request, res: Response, next: NextFunction): void {
  const type = bodyParam(req, 'client_assertion_type');
  const assertion = bodyParam(req, 'client_assertion');
  if (req.get('authorization')) return next(invalidRequest('Authenticate with client_assertion (private_key_jwt), not an Authorization header'));
  if (type === undefined || assertion === undefined) return next(invalidRequest('client_assertion_type and client_assertion are required (private_key_jwt)'));
  if (type !== CLIENT_ASSERTION_TYPE) return next(invalidRequest(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`));
  // The claimed agent, unverified, only to key the failure throttle.
  const decoded = (locals(res).assertion = decodeJws(assertion));
  const sub = decoded?.payload.sub;
  if (typeof sub === 'string' && isUuid(sub)) locals(res).claimedAgentId = sub;
  next();
}

function throttleFailures(failures: FailureLimiter) {
  return function throttleFailures(req: Request, res: Response, next: NextFunction): void {
    const wait = failures.retryAfter(req.ip ?? 'unknown', locals(res).claimedAgentId);
    if (wait > 0) return next(new OAuthError(429, 'slow_down', 'Too many failed authentication attempts; retry later', 'throttled', wait));
    next();
  };
}

function authenticateClient(tokens: TokenService, failures: FailureLimiter) {
  return async function authenticateClient(req: Request, res: Response, next: NextFunction): Promise<void> {
    const result = await tokens.authenticateClient(locals(res).assertion ?? null, bodyParam(req, 'client_id'));
    if (!result.ok) {
      failures.recordFailure(req.ip ?? 'unknown', result.claimedAgentId);
      tokens.recordFailure(result, requestInfo(req));
      return next(result.error);
    }
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
      if (err instanceof OAuthError) {
        tokens.recordFailure({ ok: false, error: err, agent: { id: client.agentId, orgId: client.orgId } }, requestInfo(req));
      }
      return next(err);
    }
    next();
  };
}

function issueToken(tokens: TokenService, failures: FailureLimiter) {
  return async function issueToken(req: Request, res: Response, next: NextFunction): Promise<void> {
    const { client, scopes } = locals(res);
    try {
      sendJson(res, 200, await tokens.issue(client!, scopes ?? null, requestInfo(req)));
    } catch (err) {
      if (err instanceof OAuthError) failures.recordFailure(req.ip ?? 'unknown', client!.agentId); // audited by the writer
      next(err);
    }
  };
}

export function tokenEndpoint(deps: TokenEndpointDeps): RequestHandler[] {
  return [
    noStore,
    parseBody(deps.bodyLimitBytes),
    rejectDupes,
    checkGrantType,
    checkClientAssertion,
    throttleFailures(deps.failures),
    authenticateClient(deps.tokens, deps.failures),
    validateScope(deps.tokens),
    issueToken(deps.tokens, deps.failures),
  ];
}
