/**
 * The cluster-wide request limit's shared token buckets: one row per limited caller (an API key or
 * an agent), refilled by the database's own clock, from which every replica leases small slices
 * (api/src/middleware/rate-limit.ts). UNLOGGED: the rows are soft state (a lost row is a full
 * bucket), so they need no WAL, and a crash that empties the table only forgives a burst.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create unlogged table rate_limit_buckets (
      key text primary key,
      tokens double precision not null,
      granted double precision not null,
      updated_at timestamptz not null
    )`);
  await knex.raw('create index rate_limit_buckets_updated_at on rate_limit_buckets (updated_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limit_buckets');
}
