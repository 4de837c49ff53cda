/** The shared token buckets of the cluster-wide request limit (table rate_limit_buckets). */
import type { Knex } from 'knex';

export interface Lease {
  /** Tokens taken from the bucket for the caller (0 when it holds less than one). */
  granted: number;
  /** What the bucket holds after the lease. */
  remaining: number;
}

/**
 * Takes up to `want` whole tokens from `key`'s bucket in one statement. The bucket refills at
 * `perSecond` up to `burst` by the database's clock (one clock for every replica); a missing row is
 * a full bucket. Concurrent leases on one key serialize on its row.
 */
export async function leaseTokens(db: Knex, key: string, want: number, perSecond: number, burst: number): Promise<Lease> {
  // Numbers are the process's own configuration and counts (checked finite), inlined as literals;
  // the key is bound.
  const [w, rate, cap] = [want, perSecond, burst].map((n) => {
    if (!Number.isFinite(n) || n < 0) throw new Error(`rate limit lease: ${n} is not a finite non-negative number`);
    return `${n}::float8`;
  }) as [string, string, string];
  const refill = `least(${cap}, b.tokens + extract(epoch from (clock_timestamp() - b.updated_at)) * ${rate})`;
  const grant = `greatest(0, least(${w}, floor(${refill})))`;
  const { rows } = await db.raw<{ rows: { granted: number; tokens: number }[] }>(
    `insert into rate_limit_buckets as b (key, tokens, granted, updated_at)
     values (?, ${cap} - least(${w}, ${cap}), least(${w}, ${cap}), clock_timestamp())
     on conflict (key) do update set
       granted = ${grant},
       tokens = ${refill} - ${grant},
       updated_at = clock_timestamp()
     returning granted, tokens`,
    [key],
  );
  const row = rows[0]!;
  return { granted: Number(row.granted), remaining: Number(row.tokens) };
}

/** Deletes buckets untouched for `idleSeconds` (refilled by now: the same as no row). */
export async function deleteIdleBuckets(db: Knex, idleSeconds: number): Promise<number> {
  return db('rate_limit_buckets').where('updated_at', '<', db.raw(`clock_timestamp() - make_interval(secs => ?)`, [idleSeconds])).delete();
}
