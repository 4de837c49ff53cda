/**
 * What the cluster-wide request limit costs per request (`node dist/bench/rate-limit.js`): the
 * per-process limiter's decision, the cluster limiter's decision (its slices leased from
 * PostgreSQL), and one lease's round trip. Three limiters stand for three replicas on one key.
 */
import knexFactory from 'knex';
import { ClusterRequestLimiter, LocalRequestLimiter } from '../api/src/middleware/rate-limit';
import { leaseTokens } from '../api/src/db/operations/rate-limits';
import { migrateLatest } from '../api/src/db/migrate';
import { startPostgres } from './support/postgres';

const N = 200_000;

async function main(): Promise<void> {
  const pg = await startPostgres();
  const knex = knexFactory({ client: 'pg', connection: pg.url('postgres'), pool: { min: 0, max: 10 } });
  try {
    await migrateLatest(knex);
    const local = new LocalRequestLimiter(1e9);
    let t = performance.now();
    for (let i = 0; i < N; i++) local.take('key:a');
    const localNs = ((performance.now() - t) * 1e6) / N;

    // A budget far above the offered load: every request is accepted; slices of 10 (200 req/s's default).
    const replicas = [0, 1, 2].map(() => new ClusterRequestLimiter(knex, 1e9, { slice: 10 }));
    t = performance.now();
    for (let i = 0; i < N; i++) {
      const p = replicas[i % 3]!.take('key:b');
      if (p) await p;
    }
    const clusterNs = ((performance.now() - t) * 1e6) / N;
    const leases = replicas.reduce((a, r) => a + r.stats.leases, 0);

    const samples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const s = performance.now();
      await leaseTokens(knex, 'key:c', 10, 200, 400);
      samples.push(performance.now() - s);
    }
    samples.sort((a, b) => a - b);
    const q = (p: number) => samples[Math.floor(p * (samples.length - 1))]!.toFixed(3);
    console.log(`local limiter: ${localNs.toFixed(0)} ns per request`);
    console.log(`cluster limiter (3 limiters on one key, slice 10): ${clusterNs.toFixed(0)} ns per request, ${leases} leases for ${N} requests (${(N / leases).toFixed(1)} requests per lease)`);
    console.log(`one lease (single-row upsert): p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`);
    await Promise.all(replicas.map((r) => r.close()));
  } finally {
    await knex.destroy();
    pg.stop();
  }
}

void main();
