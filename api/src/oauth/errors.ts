/**
 * OAuth 2.0 errors (RFC 6749 §5.2): `{error, error_description}` with the status the RFC assigns,
 * `WWW-Authenticate` on 401 and `Cache-Control: no-store`. The OAuth endpoints render these
 * instead of the API's `{error: {code, …}}` envelope, as OAuth clients expect.
 */
import type { NextFunction, Request, Response } from 'express';
import { ApiError, PayloadTooLargeError, RateLimitedError, UnsupportedMediaTypeError } from '../errors';
import { toApiError } from '../middleware/error-handler';
import type { Logger } from '../logger';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  /** RFC 8707: a `resource` is malformed or not acceptable. */
  | 'invalid_target'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_token_type'
  | 'slow_down'
  | 'server_error';

export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: OAuthErrorCode,
    readonly description: string,
    /** For the audit log / server log only; never sent. */
    readonly detail?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

export const invalidRequest = (d: string) => new OAuthError(400, 'invalid_request', d);
export const invalidClient = (d: string, detail?: string) => new OAuthError(401, 'invalid_client', d, detail);

function fromApiError(err: ApiError): OAuthError {
  if (err instanceof RateLimitedError) return new OAuthError(429, 'slow_down', err.message, undefined, err.retryAfterSeconds);
  if (err instanceof PayloadTooLargeError || err instanceof UnsupportedMediaTypeError) return new OAuthError(err.status, 'invalid_request', err.message);
  if (err.status === 401) return new OAuthError(401, 'invalid_client', err.message);
  if (err.status === 403) return new OAuthError(403, 'unauthorized_client', err.message);
  if (err.status < 500) return new OAuthError(400, 'invalid_request', err.message);
  return new OAuthError(500, 'server_error', 'An internal error occurred');
}

/** Error middleware for the OAuth routes. */
export function oauthErrorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    let e: OAuthError;
    if (err instanceof OAuthError) e = err;
    else {
      const api = toApiError(err);
      e = api ? fromApiError(api) : new OAuthError(500, 'server_error', 'An internal error occurred');
      if (!api || api.status >= 500) logger.error({ err, request_id: req.id, path: req.path }, 'oauth request failed');
    }
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    if (e.status === 401) res.setHeader('WWW-Authenticate', `Bearer realm="certusordo", error="${e.error}"`);
    if (e.retryAfterSeconds) res.setHeader('Retry-After', String(e.retryAfterSeconds));
    res.status(e.status).json({ error: e.error, error_description: e.description });
  };
}
