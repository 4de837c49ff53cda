/** Small named steps shared by the OAuth endpoints (token, introspection, revocation). */
import type { NextFunction, Request, Response } from 'express';
import { jsonBody } from '../middleware/body';
import { invalidRequest } from './errors';

/** RFC 6749 §5.1: responses carrying tokens (and their errors) must not be cached. */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  next();
}

/** application/x-www-form-urlencoded (the RFC's encoding) or JSON. */
export function parseBody(limitBytes: number) {
  const parse = jsonBody(limitBytes, { allowForm: true });
  return function parseBody(req: Request, res: Response, next: NextFunction): void {
    parse(req, res, next);
  };
}

/** RFC 6749 §3.2: parameters must not be repeated; values must be strings. */
export function rejectDupes(req: Request, _res: Response, next: NextFunction): void {
  const body: unknown = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return next(invalidRequest('The request body must be a set of parameters'));
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (Array.isArray(value)) return next(invalidRequest(`The parameter ${name} is repeated`));
    if (typeof value !== 'string') return next(invalidRequest(`The parameter ${name} must be a string`));
  }
  next();
}

/** A body parameter (rejectDupes ran, so it is a string or absent). */
export function bodyParam(req: Request, name: string): string | undefined {
  const v = (req.body as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

export function requestInfo(req: Request): { requestId: string | null; clientIp: string | null } {
  return { requestId: req.id, clientIp: req.ip ?? null };
}
