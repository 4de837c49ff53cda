/**
 * JSON bodies only (415 otherwise), bounded in size and in nesting depth; a bodiless POST is an empty object.
 *
 * Also the one place request text is checked against the model's text rule (model/text.ts):
 * every string of a JSON body (keys included) and every query parameter. A body that is not
 * UTF-8 is refused instead of being decoded with U+FFFD replacements, so nothing is ever stored
 * differently from what was sent. The OAuth endpoints' own body reader uses the same checks.
 */
import { isUtf8 } from 'node:buffer';
import express, { NextFunction, Request, Response } from 'express';
import { jsonTextViolations, isValidText, textViolations, TextViolation } from '../../../model/text';
import { UnsupportedMediaTypeError, ValidationError } from '../errors';

const NOT_UTF8 = 'certusordo.body.not_utf8';
const UNSUPPORTED_CHARSET = 'certusordo.body.charset';

function hasBody(req: Request): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

function textError(violations: readonly TextViolation[]): ValidationError {
  const first = violations[0]!;
  const details = violations.map((v) => ({ path: v.path, message: v.message }));
  if (first.rule === 'depth') return new ValidationError(`The request body is nested too deeply: ${first.message}`, details);
  return new ValidationError(`The request contains text that is not allowed: ${first.message}`, details);
}

/** Refuses bytes that are not UTF-8 (rather than decoding them to U+FFFD). */
export function assertUtf8(buf: Buffer): void {
  if (!isUtf8(buf)) throw new ValidationError('The request body is not valid UTF-8', [{ path: 'body', message: 'must be UTF-8' }]);
}

/** Every string of a parsed body (keys included) must follow the text rule, and the body must not be nested too deeply. */
export function assertBodyText(body: unknown): void {
  const violations = jsonTextViolations(body);
  if (violations.length) throw textError(violations);
}

/** A value decoded from percent-encoding, refusing sequences that are not UTF-8. */
function decodeStrict(raw: string, field: () => string): string {
  // Nothing to decode (a JWT assertion, an id): the text is its own value.
  if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new ValidationError(`${field()} is not valid percent-encoded UTF-8`, [{ path: field(), message: 'must be percent-encoded UTF-8' }]);
  }
}

/**
 * application/x-www-form-urlencoded pairs, like URLSearchParams but strict: a percent-encoded
 * sequence that is not UTF-8 is refused instead of becoming U+FFFD, and every name and value
 * follows the text rule.
 */
export function strictFormEntries(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const name = decodeStrict(rawName, () => 'A parameter name');
    const value = eq < 0 ? '' : decodeStrict(part.slice(eq + 1), () => name);
    const violations = [...textViolations(name, 'A parameter name'), ...textViolations(value, name)];
    if (violations.length) throw textError(violations.map((message) => ({ path: isValidText(name) ? name : 'parameter', message, rule: 'text' as const })));
    out.push([name, value]);
  }
  return out;
}

/** Query parameters, checked on the raw query string (Express's parser already replaced bad bytes). */
export function assertQueryText(url: string): void {
  const q = url.indexOf('?');
  if (q >= 0) strictFormEntries(url.slice(q + 1).split('#')[0]!);
}

export function jsonBody(limitBytes: number, opts: { allowForm?: boolean } = {}) {
  const json = express.json({
    limit: limitBytes,
    strict: false,
    verify: (_req, _res, buf, encoding) => {
      // JSON is UTF-8 (RFC 8259 §8.1).
      if (encoding !== 'utf-8' && encoding !== 'utf8') throw Object.assign(new Error('JSON bodies must be UTF-8'), { type: UNSUPPORTED_CHARSET });
      if (!isUtf8(buf)) throw Object.assign(new Error('The request body is not valid UTF-8'), { type: NOT_UTF8 });
    },
  });
  const form = express.urlencoded({ limit: limitBytes, extended: false });
  const checked = (req: Request, next: NextFunction) => (err?: unknown) => {
    if (err) {
      const type = (err as { type?: string }).type;
      if (type === NOT_UTF8) return next(new ValidationError('The request body is not valid UTF-8', [{ path: 'body', message: 'must be UTF-8' }]));
      if (type === UNSUPPORTED_CHARSET) return next(new UnsupportedMediaTypeError('Send JSON bodies as UTF-8'));
      return next(err);
    }
    try {
      assertBodyText(req.body);
    } catch (e) {
      return next(e);
    }
    next();
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    try {
      assertQueryText(req.originalUrl);
    } catch (err) {
      return next(err);
    }
    if (!hasBody(req)) {
      req.body = {};
      return next();
    }
    if (req.is('application/json')) return json(req, res, checked(req, next));
    if (opts.allowForm && req.is('application/x-www-form-urlencoded')) return form(req, res, checked(req, next));
    next(new UnsupportedMediaTypeError(`Send the body as application/json${opts.allowForm ? ' or application/x-www-form-urlencoded' : ''}`));
  };
}
