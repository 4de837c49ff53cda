/**
 * The OAuth endpoints' edge for domain errors (RFC 6749 §5.2): the one table that gives each
 * domain code the status and `error` the OAuth endpoints answer with, and the error middleware
 * that renders `{error, error_description}` with `Cache-Control: no-store` and, on 401,
 * `WWW-Authenticate`. OAuth clients expect this shape instead of the API's `{error: {code, …}}`.
 */
import type { NextFunction, Request, Response } from 'express';
import { DomainError, DomainErrorCode, RateLimitedError } from '../domain/errors';
import { toDomainError } from '../middleware/error-handler';
import type { Logger } from '../logger';
import { requestPath } from '../http/request-path';
import { sendJson } from './middleware';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  /** RFC 8707: a `resource` is malformed or not acceptable. */
  | 'invalid_target'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  /** RFC 6749 §4.1.2.1: the authorization endpoint does not give this response type. */
  | 'unsupported_response_type'
  | 'slow_down'
  /** RFC 9449 §5 and §8. */
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'server_error';

export interface OAuthErrorMapping {
  readonly status: number;
  readonly error: OAuthErrorCode;
}

export const OAUTH_ERRORS: Readonly<Record<DomainErrorCode, OAuthErrorMapping>> = {
  validation_error: { status: 400, error: 'invalid_request' },
  // A bad API key or access token on introspection or revocation.
  unauthenticated: { status: 401, error: 'invalid_client' },
  forbidden: { status: 403, error: 'unauthorized_client' },
  not_found: { status: 400, error: 'invalid_request' },
  conflict: { status: 400, error: 'invalid_request' },
  invalid_transition: { status: 400, error: 'invalid_request' },
  // The body could not be read: the HTTP status says why, the OAuth error that the request is bad.
  payload_too_large: { status: 413, error: 'invalid_request' },
  unsupported_media_type: { status: 415, error: 'invalid_request' },
  rate_limited: { status: 429, error: 'slow_down' },
  unavailable: { status: 500, error: 'server_error' },
  invalid_client: { status: 401, error: 'invalid_client' },
  invalid_grant: { status: 400, error: 'invalid_grant' },
  invalid_scope: { status: 400, error: 'invalid_scope' },
  invalid_target: { status: 400, error: 'invalid_target' },
  unsupported_grant_type: { status: 400, error: 'unsupported_grant_type' },
  unsupported_response_type: { status: 400, error: 'unsupported_response_type' },
  invalid_dpop_proof: { status: 400, error: 'invalid_dpop_proof' },
  use_dpop_nonce: { status: 400, error: 'use_dpop_nonce' },
};

const SERVER_ERROR: OAuthErrorMapping = { status: 500, error: 'server_error' };

/** How `err` is answered on an OAuth endpoint (anything but a domain error is a server_error). */
export function oauthErrorFor(err: unknown): OAuthErrorMapping {
  const e = toDomainError(err);
  return e ? OAUTH_ERRORS[e.code] : SERVER_ERROR;
}

/** Error middleware for the OAuth routes. */
export function oauthErrorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const e: DomainError | undefined = toDomainError(err);
    const { status, error } = e ? OAUTH_ERRORS[e.code] : SERVER_ERROR;
    if (status >= 500) logger.error({ err, request_id: req.id, path: requestPath(req) }, 'oauth request failed');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    if (status === 401) res.setHeader('WWW-Authenticate', `Bearer realm="certusordo", error="${error}"`);
    if (e instanceof RateLimitedError && e.retryAfterSeconds) res.setHeader('Retry-After', String(e.retryAfterSeconds));
    sendJson(res, status, { error, error_description: status >= 500 ? 'An internal error occurred' : e!.message });
  };
}
