/** Small named steps shared by the OAuth endpoints (token, introspection, revocation). */
import type { NextFunction, Request, Response } from 'express';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../domain/errors';
import { assertBodyText, assertUtf8, strictFormEntries } from '../middleware/body';

/** RFC 6749 §5.1: responses carrying tokens (and their errors) must not be cached. */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  next();
}

/**
 * application/x-www-form-urlencoded (the RFC's encoding) or JSON, UTF-8, bounded. A lean reader
 * rather than body-parser: these endpoints take a few short parameters and sit on every request
 * path of relying services (introspection). Repeated form parameters become arrays (rejectDupes
 * refuses them).
 */
export function parseBody(limitBytes: number) {
  return function parseBody(req: Request, _res: Response, next: NextFunction): void {
    const len = req.headers['content-length'];
    if (req.headers['transfer-encoding'] === undefined && (len === undefined || len === '0')) {
      req.body = {};
      return next();
    }
    const [type = '', ...params] = (req.headers['content-type'] ?? '').toLowerCase().split(';').map((x) => x.trim());
    const form = type === 'application/x-www-form-urlencoded';
    if (!form && type !== 'application/json') return next(new UnsupportedMediaTypeError('Send the body as application/x-www-form-urlencoded or application/json'));
    const charset = params.find((x) => x.startsWith('charset='))?.slice(8).replace(/"/g, '');
    const encoding = req.headers['content-encoding'];
    if ((charset && charset !== 'utf-8' && charset !== 'utf8') || (encoding && encoding !== 'identity')) {
      return next(new UnsupportedMediaTypeError('The body must be uncompressed UTF-8'));
    }
    if (len !== undefined && Number(len) > limitBytes) {
      req.resume();
      return next(new PayloadTooLargeError('The request body is too large'));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        if (!failed) next(new PayloadTooLargeError('The request body is too large'));
        failed = true;
      } else chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!failed) next(err);
      failed = true;
    });
    req.on('end', () => {
      if (failed) return;
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      let text: string;
      let entries: Array<[string, string]> = [];
      try {
        // Not UTF-8, U+0000 or a lone surrogate: refused, never decoded to something else.
        assertUtf8(buf);
        text = buf.toString('utf8');
        if (form) entries = strictFormEntries(text);
      } catch (err) {
        return next(err);
      }
      if (form) {
        const body: Record<string, string | string[]> = Object.create(null);
        for (const [k, v] of entries) {
          const prev = body[k];
          // Pushed in place: a parameter repeated n times costs n, not n² (rejectDupes refuses it).
          if (prev === undefined) body[k] = v;
          else if (Array.isArray(prev)) prev.push(v);
          else body[k] = [prev, v];
        }
        req.body = body;
        return next();
      }
      try {
        req.body = JSON.parse(text);
      } catch {
        return next(new ValidationError('The request body is not valid JSON'));
      }
      try {
        assertBodyText(req.body);
      } catch (err) {
        return next(err);
      }
      next();
    });
  };
}

/** A JSON response without Express's ETag computation (these responses are never cached). */
export function sendJson(res: Response, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

/** RFC 6749 §3.2: parameters must not be repeated; values must be strings. */
export function rejectDupes(req: Request, _res: Response, next: NextFunction): void {
  const body: unknown = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return next(new ValidationError('The request body must be a set of parameters'));
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (Array.isArray(value)) return next(new ValidationError(`The parameter ${name} is repeated`));
    if (typeof value !== 'string') return next(new ValidationError(`The parameter ${name} must be a string`));
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
