/**
 * The one place errors become REST responses: `{error: {code, message, details}, request_id}`.
 * Domain errors get their status from the REST table (errors.ts); body-parser, router and zod
 * errors become domain errors first; anything else is a logged 500 whose details stay in the log.
 */
import type { NextFunction, Request, Response } from 'express';
import { ZodError } from 'zod';
import { DPOP_SIGNING_ALGS } from '../../../model/dpop';
import { DomainError, InvalidDpopProofError, NotFoundError, PayloadTooLargeError, RateLimitedError, UnauthenticatedError, UnsupportedMediaTypeError, UseDpopNonceError, ValidationError } from '../domain/errors';
import { restStatus } from '../errors';
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
function fromBodyParser(err: { type?: string; status?: number }): DomainError | undefined {
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

/**
 * The router's refusal of a path parameter that is not percent-encoded UTF-8 (a URIError it marks
 * 400). Its message quotes the raw parameter, so it is replaced rather than shown.
 */
function fromRouter(err: URIError & { status?: number }): DomainError | undefined {
  if (err.status !== 400) return undefined;
  return new ValidationError('The request path is not valid percent-encoded UTF-8', [{ path: 'path', message: 'must be percent-encoded UTF-8' }]);
}

/** The domain error `err` is or stands for; undefined for anything unexpected (a 500). */
export function toDomainError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
  if (err instanceof ZodError) return fromZod(err);
  if (err instanceof URIError) return fromRouter(err);
  if (typeof err === 'object' && err !== null && 'type' in err) return fromBodyParser(err as { type?: string; status?: number });
  return undefined;
}

export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const domainErr = toDomainError(err);
    const status = domainErr ? restStatus(domainErr) : 500;
    if (status >= 500) {
      logger.error({ err, request_id: req.id, method: req.method, path: requestPath(req) }, 'request failed');
    }
    if (domainErr instanceof RateLimitedError) res.setHeader('Retry-After', String(domainErr.retryAfterSeconds));
    if (domainErr instanceof UnauthenticatedError) res.setHeader('WWW-Authenticate', 'Bearer realm="certusordo"');
    if (domainErr instanceof InvalidDpopProofError || domainErr instanceof UseDpopNonceError) {
      res.setHeader('WWW-Authenticate', `DPoP realm="certusordo", error="${domainErr.code}", algs="${DPOP_SIGNING_ALGS.join(' ')}"`);
    }
    // 5xx messages and details are not shown: they may describe the server's internals.
    const expose = domainErr !== undefined && status < 500;
    res.status(status).json({
      error: {
        code: domainErr?.code ?? 'internal_error',
        message: expose ? domainErr.message : 'An internal error occurred',
        details: expose ? domainErr.details : [],
      },
      request_id: req.id,
    });
  };
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  next(new NotFoundError(`No route for ${req.method} ${req.path}`));
}
