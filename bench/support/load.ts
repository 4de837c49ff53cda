/**
 * A small closed-loop HTTP load generator meant to run in its own process (so it does not steal
 * the server's event loop): C keep-alive connections, each sending its next request as soon as
 * the previous answers, for D seconds. Prints one JSON result line on stdout.
 *
 * Usage (as a child): node load.js '<json LoadSpec>'
 */
import http from 'node:http';
import { fork } from 'node:child_process';
import { assertionPool, AssertionSpec } from './assertions';

export interface LoadSpec {
  url: string;
  method?: string;
  /** Header values; "{n}" inside one is replaced by the per-request counter (e.g. a fresh Idempotency-Key). */
  headers?: Record<string, string>;
  /** JSON body; the string "{n}" inside it is replaced by a per-request counter (for unique names). */
  body?: string;
  /** Form body, sent as application/x-www-form-urlencoded; "{n}" is replaced likewise. */
  form?: string;
  /** Token requests: a fresh client assertion per request (a jti is single use), as a form body. */
  assertions?: AssertionSpec;
  connections: number;
  seconds: number;
  /** Status expected from every response (others are counted as errors). */
  expectStatus?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  /** Responses per status code. */
  statuses: Record<string, number>;
  /** CPU seconds the load generator itself used during the load. */
  loadCpuSeconds: number;
  /** CPU seconds each sampled process group used during the load (see interleavedRounds' `cpu`). */
  cpuSeconds?: Record<string, number>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const url = new URL(spec.url);
  // Signed before the clock starts, so the client's Ed25519 work does not compete with the server.
  const nextAssertion = spec.assertions ? assertionPool(spec.assertions, spec.seconds * 3000) : undefined;
  const isForm = spec.form !== undefined || nextAssertion !== undefined;
  const deadline = Date.now() + spec.seconds * 1000;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let counter = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const n = counter++;
      const payload = nextAssertion?.() ?? spec.body?.replace(/\{n\}/g, String(n)) ?? spec.form?.replace(/\{n\}/g, String(n));
      const headers: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(spec.headers ?? {})) headers[k] = v.replace(/\{n\}/g, String(n));
      if (payload !== undefined) {
        headers['content-type'] = isForm ? 'application/x-www-form-urlencoded' : 'application/json';
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
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (Date.now() < deadline) await one();
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, rps: latencies.length / elapsed, p50ms: percentile(latencies, 50), p99ms: percentile(latencies, 99), statuses, loadCpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** Runs a load in a child process and resolves with its result. */
export function loadInChild(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`load generator exited ${code}`))));
  });
}

/**
 * Runs `specs` one after another, each for `seconds`, `rounds` times over (after a one-second
 * warm-up of each), so that a noisy neighbour hits every load alike; `onRound` sees each round's
 * results as they come. `cpu` names CPU-seconds counters (see support/cpu) read just before and
 * after each timed load, whose differences land in each result's `cpuSeconds`. Returns every
 * round's results, in order.
 */
export async function interleavedRounds(
  specs: Record<string, Omit<LoadSpec, 'connections' | 'seconds'>>,
  o: {
    connections: number;
    seconds: number;
    rounds: number;
    onRound?: (round: Record<string, LoadResult>, index: number) => void;
    cpu?: Record<string, () => number>;
  },
): Promise<Record<string, LoadResult>[]> {
  for (const spec of Object.values(specs)) await loadInChild({ ...spec, connections: o.connections, seconds: 1 });
  const perRound: Record<string, LoadResult>[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const round: Record<string, LoadResult> = {};
    for (const [name, spec] of Object.entries(specs)) {
      const before = sample(o.cpu);
      const result = await loadInChild({ ...spec, connections: o.connections, seconds: o.seconds });
      const after = sample(o.cpu);
      round[name] = o.cpu ? { ...result, cpuSeconds: Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!])) } : result;
    }
    perRound.push(round);
    o.onRound?.(round, r);
  }
  return perRound;
}

function sample(cpu: Record<string, () => number> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(cpu ?? {}).map(([k, read]) => [k, read()]));
}

if (require.main === module) {
  runLoad(JSON.parse(process.argv[2]!) as LoadSpec).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (err) => {
      process.stderr.write(String(err) + '\n');
      process.exit(1);
    },
  );
}
