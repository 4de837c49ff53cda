/**
 * The provider's `fetch` for the client core (sdk/src/core): node:http/https with keep-alive,
 * rather than global fetch, because undici's per-request CPU is a large provider-side cost when
 * planning hundreds of agents, and a plugin process competes for CPU with terraform itself
 * (provider-bridge/README.md#benchmark). Only the HTTP exchange lives here; retries, timeouts,
 * idempotency and errors are the core's.
 *
 * Two guards the core cannot have in a browser:
 * - Response bodies are capped: the control plane's largest answer (a 200-agent page) is far below
 *   the cap, and a wrong or hostile endpoint must not be able to grow the provider's memory without
 *   bound. A body over the cap aborts the read; the partial body is dropped, never reported.
 * - Plain http (allowed only to loopback without the `insecure` opt-in) resolves host names to
 *   loopback addresses only, so `localhost` cannot be pointed elsewhere by a resolver.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { ResponseTooLargeError } from '../../../sdk/src/core/errors';
import type { Fetch, FetchResponse } from '../../../sdk/src/core/fetch';
import { insecureEndpointError, loopbackOnlyLookup } from './endpoint';

export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface NodeFetchOptions {
  /** Allows plain http to hosts that are not loopback (the provider's `insecure` opt-in). */
  insecure?: boolean | undefined;
  /** Defaults to MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number | undefined;
}

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 32 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

const loopbackLookup = loopbackOnlyLookup();

export function nodeFetch(options: NodeFetchOptions = {}): Fetch {
  const limit = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  return (href, init) =>
    new Promise<FetchResponse>((resolve, reject) => {
      const url = new URL(href);
      const isHttps = url.protocol === 'https:';
      const headers: Record<string, string> = { ...init.headers };
      if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const req = (isHttps ? https : http).request(
        url,
        {
          method: init.method,
          headers,
          agent: agents[isHttps ? 'https:' : 'http:'],
          signal: init.signal,
          ...(url.protocol === 'http:' && !options.insecure ? { lookup: loopbackLookup } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const tooLarge = (): void => {
            fail(new ResponseTooLargeError({ origin: url.origin, limitBytes: limit, status }));
            // Destroying the request closes the socket: the rest of the body is never read.
            req.destroy();
          };
          const declared = Number(res.headers['content-length']);
          if (Number.isFinite(declared) && declared > limit) return tooLarge();
          let chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (settled) return;
            size += c.length;
            if (size > limit) {
              chunks = [];
              return tooLarge();
            }
            chunks.push(c);
          });
          res.on('error', fail);
          res.on('close', () => {
            if (!res.complete) fail(Object.assign(new Error('the connection closed before the response was complete'), { code: 'ECONNRESET' }));
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status,
              headers: {
                get: (name) => {
                  const v = res.headers[name.toLowerCase()];
                  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
                },
              },
              text: async () => text,
            });
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // The loopback-only lookup refused the name: a final verdict, not a network hiccup to retry.
        fail(err.code === 'ENOTLOOPBACK' ? insecureEndpointError(`${url.hostname} does not resolve to a loopback address`) : err);
      });
      if (init.body !== undefined) req.write(init.body);
      req.end();
    });
}
