/**
 * Helmet's response headers, computed once. With a static policy (no per-request nonce) they are
 * the same for every response, so one loop sets them instead of helmet's chain of twelve
 * middlewares on every request; the values stay helmet's own.
 */
import type { Request, Response } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

export function securityHeaders(options: Readonly<HelmetOptions>): HeaderList {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    },
    removeHeader(name: string) {
      headers.delete(name);
    },
    getHeader: (name: string) => headers.get(name),
  };
  let failure: unknown = null;
  helmet(options)({} as Request, recorder as unknown as Response, (err?: unknown) => {
    failure = err ?? null;
  });
  if (failure) throw failure;
  return [...headers];
}
