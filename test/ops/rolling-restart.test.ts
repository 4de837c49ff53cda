/**
 * A rolling restart with zero failed requests: three `certusordo serve` processes on one
 * PostgreSQL behind a round-robin load balancer that routes by /readyz, a mixed load through the
 * SDK (creates with Idempotency-Keys, token requests, introspections, suspensions and
 * activations), and every replica restarted in turn (SIGTERM, wait for its exit, start a new one,
 * wait until the balancer routes to it). The SDK may retry, as a real client does; no operation
 * may fail, every acknowledged create must exist afterwards, and the audit chain must verify.
 */
import { AgentCredentials, CertusOrdoClient } from '../../sdk/src';
import { ClusterDatabase, freshDatabase, Proxy, Replica } from './support/cluster';

const REPLICAS = 3;
const WORKERS = 6;
/** Longer than a few health-check periods of the balancer (50 ms), so it stops routing first. */
const DRAIN_MS = 2000;

let db: ClusterDatabase;
let proxy: Proxy;
const replicas: Replica[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  proxy = new Proxy(50);
  const publicUrl = await proxy.listen();
  for (let i = 0; i < REPLICAS; i++) {
    // One after another: the first creates the organization and prints its admin key.
    const r = await Replica.start(db, env(publicUrl));
    replicas.push(r);
    await proxy.add(r.url);
  }
}, 240_000);

afterAll(async () => {
  for (const r of replicas) r.kill();
  await proxy?.close();
});

function env(publicUrl: string): Record<string, string> {
  return { CERTUSORDO_PUBLIC_URL: publicUrl, CERTUSORDO_SHUTDOWN_DRAIN_MS: String(DRAIN_MS) };
}

interface Counters {
  operations: number;
  failures: string[];
  /** Attempts the SDK saw fail with a retryable answer or no answer (it then retried). */
  retries: number;
  creates: string[];
}

test('every replica restarted in turn under load: 0 failed operations, 0 lost writes, the audit chain verifies', async () => {
  const apiKey = replicas[0]!.bootstrapKey;
  expect(apiKey).toBeDefined();
  const counters: Counters = { operations: 0, failures: [], retries: 0, creates: [] };
  const countingFetch: typeof fetch = async (input, init) => {
    try {
      const res = await fetch(input, init);
      if (res.status >= 500 || res.status === 429) counters.retries++;
      return res;
    } catch (err) {
      counters.retries++;
      throw err;
    }
  };
  const client = new CertusOrdoClient({ apiKey: apiKey!, baseUrl: proxy.url, maxRetries: 6, fetch: countingFetch });
  let stopping = false;
  /** Resolves once `n` operations have completed. */
  const waiters: { n: number; resolve: () => void }[] = [];
  const untilOperations = (n: number) => new Promise<void>((resolve) => waiters.push({ n, resolve }));
  const completed = () => {
    for (let i = waiters.length - 1; i >= 0; i--) if (counters.operations >= waiters[i]!.n) waiters.splice(i, 1)[0]!.resolve();
  };

  const op = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    counters.operations++;
    completed();
    try {
      return await fn();
    } catch (err) {
      counters.failures.push(`${name}: ${(err as Error).message}`);
      return undefined;
    }
  };

  const worker = async (w: number) => {
    for (let i = 0; !stopping; i++) {
      const created = await op('create', () => client.agents.create({ name: `rr-${w}-${i}`, scopes: ['orders:read'] }));
      if (!created) continue;
      counters.creates.push(created.id);
      const creds = AgentCredentials.fromSecret(created.secret!, { baseUrl: proxy.url, maxRetries: 6, fetch: countingFetch });
      const token = await op('token', () => creds.getToken());
      if (token) {
        const seen = await op('introspect', () => client.introspect(token));
        if (seen && !seen.active) counters.failures.push('introspect: a fresh token was inactive');
      }
      if (i % 2 === 0) {
        await op('suspend', () => client.agents.suspend(created.id, 'rolling restart test'));
        await op('activate', () => client.agents.activate(created.id));
      }
    }
  };

  const load = Array.from({ length: WORKERS }, (_, w) => worker(w));
  // Let the load reach every replica before the first restart.
  await untilOperations(60);

  const restarts: { stopMs: number; readyMs: number; exitCode: number | null }[] = [];
  const started = performance.now();
  for (let i = 0; i < REPLICAS; i++) {
    const old = replicas[i]!;
    const t0 = performance.now();
    const exited = old.stop();
    await proxy.untilNotReady(old.url);
    const exitCode = await exited;
    proxy.remove(old.url);
    const t1 = performance.now();
    const fresh = await Replica.start(db, env(proxy.url));
    replicas[i] = fresh;
    await proxy.add(fresh.url);
    restarts.push({ stopMs: t1 - t0, readyMs: performance.now() - t1, exitCode });
  }
  const opsAtEnd = counters.operations;
  // A little more load on the new generation, then stop.
  await untilOperations(opsAtEnd + 30);
  stopping = true;
  await Promise.all(load);
  const seconds = (performance.now() - started) / 1000;

  console.log(
    [
      `rolling restart of ${REPLICAS} replicas under load (${WORKERS} SDK workers, drain ${DRAIN_MS} ms):`,
      `  client operations: ${counters.operations} (${counters.creates.length} creates) in ${seconds.toFixed(1)} s; failed: ${counters.failures.length}`,
      `  attempts retried by the SDK: ${counters.retries}; balancer forwards: ${proxy.stats.forwarded}, failed forwards: ${proxy.stats.failed}`,
      ...restarts.map((r, i) => `  replica ${i + 1}: SIGTERM → exit ${r.exitCode} in ${r.stopMs.toFixed(0)} ms; new replica ready in ${r.readyMs.toFixed(0)} ms`),
    ].join('\n'),
  );

  expect(counters.failures).toEqual([]);
  expect(restarts.map((r) => r.exitCode)).toEqual([0, 0, 0]);
  // The drain did its job: the balancer stopped routing to each replica before it stopped listening.
  expect(proxy.stats.failed).toBe(0);

  // Every acknowledged create exists (read through the balancer, from any replica).
  const ids = new Set<string>();
  for await (const a of client.agents.list({ limit: 100 })) ids.add(a.id);
  expect(counters.creates.filter((id) => !ids.has(id))).toEqual([]);

  const verified = await client.auditEvents.verify({ full: true });
  expect(verified).toMatchObject({ valid: true, firstBrokenSeq: null });
  expect(verified.eventsChecked).toBeGreaterThan(counters.creates.length);
}, 300_000);
