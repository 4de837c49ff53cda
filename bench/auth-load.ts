/**
 * Closed-loop keep-alive HTTP load for the auth benchmark, run in its own process so it never
 * shares the server's event loop: C connections, each sending its next request as soon as the
 * previous one answered, for D seconds. Besides fixed requests it can send a fresh client
 * assertion per request (token issuance must never replay a jti), signed with node:crypto Ed25519.
 *
 * Usage (as a child): node auth-load.js '<json AuthLoadSpec>'  → one JSON result line on stdout.
 */
import http from 'node:http';
import { createPrivateKey, randomUUID, sign, KeyObject } from 'node:crypto';
import { fork } from 'node:child_process';

export interface AuthLoadSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** A fixed urlencoded body. */
  form?: string;
  /** Sign a new client assertion per request, round-robin over these agents. */
  assertions?: { aud: string; agents: { id: string; seed: string }[] };
  connections: number;
  seconds: number;
  expectStatus?: number;
}

export interface AuthLoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  statuses: Record<string, number>;
}

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ASSERTION_TYPE = encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');

function assertionForm(aud: string, agent: { id: string; key: KeyObject }): string {
  const now = Math.floor(Date.now() / 1000);
  const h = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(JSON.stringify({ iss: agent.id, sub: agent.id, aud, jti: randomUUID(), iat: now, exp: now + 60 })).toString('base64url');
  const jwt = `${h}.${p}.${sign(null, Buffer.from(`${h}.${p}`), agent.key).toString('base64url')}`;
  return `grant_type=client_credentials&client_assertion_type=${ASSERTION_TYPE}&client_assertion=${jwt}`;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
}

export async function runAuthLoad(spec: AuthLoadSpec): Promise<AuthLoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const url = new URL(spec.url);
  const signers = spec.assertions?.agents.map((a) => ({ id: a.id, key: createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(a.seed, 'base64url')]), format: 'der', type: 'pkcs8' }) }));
  // Assertions are signed before the clock starts (a pool sized for up to 3,000 req/s), so the
  // client's own Ed25519 work does not compete with the server for this machine's CPUs.
  const pool = signers ? Array.from({ length: Math.min(60_000, spec.seconds * 3000) }, (_, i) => assertionForm(spec.assertions!.aud, signers[i % signers.length]!)) : [];
  const deadline = Date.now() + spec.seconds * 1000;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let n = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const payload = signers ? (pool.pop() ?? assertionForm(spec.assertions!.aud, signers[n++ % signers.length]!)) : spec.form;
      const headers: Record<string, string | number> = { ...spec.headers };
      if (payload !== undefined) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const started = process.hrtime.bigint();
      const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: spec.method ?? 'GET', headers }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
          if (res.statusCode !== (spec.expectStatus ?? 200)) errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  const started = Date.now();
  await Promise.all(Array.from({ length: spec.connections }, async () => {
    while (Date.now() < deadline) await one();
  }));
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, rps: latencies.length / elapsed, p50ms: percentile(latencies, 50), p99ms: percentile(latencies, 99), statuses };
}

/** Runs a load in a child process. */
export function authLoadInChild(spec: AuthLoadSpec): Promise<AuthLoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`load generator exited ${code}`))));
  });
}

if (require.main === module) {
  runAuthLoad(JSON.parse(process.argv[2]!) as AuthLoadSpec).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (err) => {
      process.stderr.write(String(err) + '\n');
      process.exit(1);
    },
  );
}
