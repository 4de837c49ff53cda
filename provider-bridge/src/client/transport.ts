/**
 * Minimal HTTP transport on node:http/https with keep-alive. The provider used global fetch
 * first; its per-request CPU (undici internals) was the largest provider-side cost when planning
 * hundreds of agents, and a plugin process competes for CPU with terraform itself.
 */
import * as http from 'node:http';
import * as https from 'node:https';

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
}

/** `fetch` satisfies this type, so tests can wrap the global fetch. */
export type Transport = (url: URL, init: TransportRequest) => Promise<TransportResponse>;

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 32 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

export const nodeTransport: Transport = (url, init) =>
  new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const headers: Record<string, string> = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
    const req = (isHttps ? https : http).request(
      url,
      { method: init.method, headers, agent: agents[isHttps ? 'https:' : 'http:'], signal: init.signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
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
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
