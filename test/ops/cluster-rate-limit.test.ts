/**
 * The per-API-key limit (CERTUSORDO_RATE_LIMIT) holds across replicas: three `certusordo serve`
 * processes on one PostgreSQL share each key's budget (a token bucket in the database, leased in
 * slices). A burst of N requests sent with one key, round-robin over the replicas and faster than
 * the rate, is accepted at most 1.5 × what one bucket allows over the burst's duration
 * (burst + rate × T); replicas with their own buckets would accept about 3 × that.
 */
import { ClusterDatabase, freshDatabase, Replica } from './support/cluster';

const RATE = 10;
const BURST = 2 * RATE;
const N = 300;
const CONCURRENCY = 12;

let db: ClusterDatabase;
const replicas: Replica[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  for (let i = 0; i < 3; i++) replicas.push(await Replica.start(db, { CERTUSORDO_RATE_LIMIT: String(RATE) }));
}, 240_000);
afterAll(() => {
  for (const r of replicas) r.kill();
});

test('one key across three replicas: accepted ≤ 1.5 × (burst + rate × T)', async () => {
  const key = replicas[0]!.bootstrapKey!;
  const counts = { accepted: 0, refused: 0, other: [] as number[] };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < N; i = next++) {
        const res = await fetch(`${replicas[i % 3]!.url}/v1/agents?limit=1`, { headers: { authorization: `Bearer ${key}` } });
        await res.arrayBuffer();
        if (res.status === 200) counts.accepted++;
        else if (res.status === 429) counts.refused++;
        else counts.other.push(res.status);
      }
    }),
  );
  // The whole burst's span, send of the first to answer of the last: an upper bound on the window.
  const seconds = (performance.now() - started) / 1000;
  const allowed = BURST + RATE * seconds;
  console.log(
    `cluster rate limit, 3 replicas, ${RATE} req/s per key (burst ${BURST}): ${N} requests in ${seconds.toFixed(2)} s → ` +
      `${counts.accepted} accepted, ${counts.refused} refused; one bucket allows ${allowed.toFixed(1)} → ratio ${(counts.accepted / allowed).toFixed(2)}`,
  );
  expect(counts.other).toEqual([]);
  expect(counts.accepted + counts.refused).toBe(N);
  // The burst must have outrun the budget for the measurement to mean anything.
  expect(counts.refused).toBeGreaterThan(0);
  expect(counts.accepted).toBeLessThanOrEqual(1.5 * allowed);
  // And the shared budget is really given out (the whole burst at least).
  expect(counts.accepted).toBeGreaterThanOrEqual(BURST);
}, 180_000);
