/**
 * The one place errors become HTTP responses: `{error: {code, message, details}, request_id}`.
 * Domain errors map to their status; body-parser and zod errors become 4xx; anything else is a
 * logged 500 whose details stay in the log.
 */
import type { NextFunction, Request, Response } from 'express';
import { ZodError } from 'zod';
import { ApiError, NotFoundError, PayloadTooLargeError, RateLimitedError, UnauthenticatedError, UnsupportedMediaTypeError, ValidationError } from '../errors';
import type { Logger } from '../logger';
import { requestPath } from '../http/request-path';

export function fromZod(err: ZodError): ValidationError {
  const details = err.issues.map((i) => ({
    path: i.path.length ? i.path.join('.') : i.code === 'unrecognized_keys' ? (i as { keys?: string[] }).keys?.join(',') ?? '' : '',
    message: i.message,
  }));
  return new ValidationError('The request is invalid', details);
}

/** Errors thrown by express.json (body-parser) carry a `type`. */
function fromBodyParser(err: { type?: string; status?: number }): ApiError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new ValidationError('The request body is not valid JSON');
    case 'entity.too.large':
      return new PayloadTooLargeError('The request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError('Unsupported body encoding');
    default:
      return err.status === 400 ? new ValidationError('The request body could not be read') : undefined;
  }
}

export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof ZodError) return fromZod(err);
  if (typeof err === 'object' && err !== null && 'type' in err) return fromBodyParser(err as { type?: string; status?: number });
  return undefined;
}

export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const apiErr = toApiError(err);
    if (!apiErr || apiErr.status >= 500) {
      logger.error({ err, request_id: req.id, method: req.method, path: requestPath(req) }, 'request failed');
    }
    const status = apiErr?.status ?? 500;
    if (apiErr instanceof RateLimitedError) res.setHeader('Retry-After', String(apiErr.retryAfterSeconds));
    if (apiErr instanceof UnauthenticatedError) res.setHeader('WWW-Authenticate', 'Bearer realm="certusordo"');
    res.status(status).json({
      error: {
        code: apiErr?.code ?? 'internal_error',
        message: apiErr?.expose ? apiErr.message : 'An internal error occurred',
        details: apiErr?.expose ? apiErr.details : [],
      },
      request_id: req.id,
    });
  };
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  next(new NotFoundError(`No route for ${req.method} ${req.path}`));
}
