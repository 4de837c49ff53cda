/**
 * Response headers that protect browsers, computed once. Documents (the console, the API
 * reference) get helmet's full set; JSON API responses get the set OWASP's REST Security Cheat
 * Sheet names for APIs, since the document headers (cross-origin isolation, DNS prefetching,
 * download and XSS-filter switches) govern pages, not data, and each one is bytes and parsing on
 * every answer to every client, an introspecting resource server included.
 *
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

/**
 * Headers for JSON API responses: no content sniffing, nothing may frame or load anything from the
 * response (`default-src 'none'`), HTTPS only, no referrer. HSTS keeps helmet's value.
 */
export function apiSecurityHeaders(documentHeaders: HeaderList): HeaderList {
  const hsts = documentHeaders.find(([name]) => name.toLowerCase() === 'strict-transport-security');
  return [
    ['X-Content-Type-Options', 'nosniff'],
    ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
    ['X-Frame-Options', 'DENY'],
    ['Referrer-Policy', 'no-referrer'],
    ...(hsts ? [hsts] : []),
  ];
}
