/**
 * RFC 8707 resource indicators on the token request: `resource` names the service the token is
 * for and becomes its `aud`, so a relying service can require tokens minted for it. Optional and
 * repeatable; each value an absolute URI without a fragment.
 */
import type { NextFunction, Request, Response } from 'express';
import { InvalidTargetError } from '../domain/errors';

export const MAX_RESOURCES = 10;
export const MAX_RESOURCE_LENGTH = 2048;

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** URIs are printable ASCII without spaces (RFC 3986); anything else is refused, not re-encoded. */
const URI_CHARS = /^[\x21-\x7e]+$/;

const invalidTarget = (d: string) => new InvalidTargetError(d);

/** The distinct resource values in request order; throws invalid_target. */
export function parseResourceValues(value: unknown): string[] {
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0) throw invalidTarget('resource must not be empty');
  if (values.length > MAX_RESOURCES) throw invalidTarget(`At most ${MAX_RESOURCES} resource values are accepted`);
  const out: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string') throw invalidTarget('resource must be a string');
    if (v.length === 0 || v.length > MAX_RESOURCE_LENGTH) throw invalidTarget(`Each resource must be 1-${MAX_RESOURCE_LENGTH} characters`);
    if (!SCHEME.test(v) || !URI_CHARS.test(v) || !URL.canParse(v)) throw invalidTarget('Each resource must be an absolute URI');
    if (v.includes('#')) throw invalidTarget('A resource must not contain a fragment');
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/**
 * Takes `resource` out of the body (the one parameter that may repeat, so it must leave before
 * rejectDupes) into `res.locals.resources`; an absent parameter leaves an empty list.
 */
export function parseResources(req: Request, res: Response, next: NextFunction): void {
  const body: unknown = req.body;
  const locals = res.locals as { resources?: string[] };
  locals.resources = [];
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !Object.prototype.hasOwnProperty.call(body, 'resource')) return next();
  const raw = (body as Record<string, unknown>).resource;
  delete (body as Record<string, unknown>).resource;
  try {
    locals.resources = parseResourceValues(raw);
  } catch (err) {
    return next(err);
  }
  next();
}
