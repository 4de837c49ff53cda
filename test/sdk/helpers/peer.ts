/**
 * A tiny scripted HTTP peer for transport unit tests: it answers each request with the next
 * scripted response (status, headers, body, delay) and records what it received. It tests our
 * transport's behaviour on the wire (retries, backoff, timeouts), not the CertusOrdo API.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer (until the peer closes): a timeout or an abort is then the only way out. */
  hang?: boolean;
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Peer {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startPeer(
  script: ScriptedResponse[] | ((req: ReceivedRequest, index: number) => ScriptedResponse),
): Promise<Peer> {
  const received: ReceivedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const rec: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, at: Date.now() };
      received.push(rec);
      const index = received.length - 1;
      const r =
        typeof script === 'function'
          ? script(rec, index)
          : (script[index] ?? script[script.length - 1] ?? { status: 500, body: { error: { code: 'internal_error', message: 'script exhausted' } } });
      if (r.hang) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (res.destroyed) return;
        const payload = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        res.writeHead(r.status, {
          ...(r.body !== undefined && typeof r.body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...r.headers,
        });
        res.end(payload);
      }, r.delayMs ?? 0);
      timers.add(timer);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export const wireAgent = (over: Record<string, unknown> = {}) => ({
  id: '6f0d3c1e-8a53-4a55-9d69-0e9a3d3f1a01',
  name: 'payment-processor',
  public_key: 'O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik',
  scopes: ['payments:read'],
  status: 'active',
  metadata: { team: 'payments' },
  created_at: '2026-11-25T21:00:00.000Z',
  updated_at: '2026-11-25T21:00:01.000Z',
  last_auth_at: null,
  may_act: ['6f0d3c1e-8a53-4a55-9d69-0e9a3d3f1a02'],
  ...over,
});
