/**
 * Minimal HTTP transport on node:http/https with keep-alive, rather than global fetch: undici's
 * per-request CPU is a large provider-side cost when planning hundreds of agents, and a plugin
 * process competes for CPU with terraform itself (figures in provider-bridge/README.md#benchmark).
 *
 * Response bodies are capped: the control plane's largest answer (a 200-agent page) is far below
 * the cap, and a wrong or hostile endpoint must not be able to grow the provider's memory without
 * bound. A body over the cap aborts the read; the partial body is dropped, never reported.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { ResponseTooLargeError } from './errors';
import { loopbackOnlyLookup } from './endpoint';

export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface TransportResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface TransportRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Resolve the host name to loopback addresses only (plain http without the insecure opt-in). */
  loopbackOnly?: boolean;
  /** Defaults to MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
}

/** `fetch` satisfies this type, so tests can wrap the global fetch. */
export type Transport = (url: URL, init: TransportRequest) => Promise<TransportResponse>;

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 32 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

const loopbackLookup = loopbackOnlyLookup();

export const nodeTransport: Transport = (url, init) =>
  new Promise((resolve, reject) => {
    const limit = init.maxResponseBytes ?? MAX_RESPONSE_BYTES;
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
        ...(init.loopbackOnly ? { lookup: loopbackLookup } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const tooLarge = (): void => {
          fail(new ResponseTooLargeError(url.origin, limit, status));
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
          if (!res.complete) fail(new Error('the connection closed before the response was complete'));
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            ok: status >= 200 && status < 300,
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
    req.on('error', fail);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
