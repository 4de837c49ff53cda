/**
 * `agents.first_auth_at`: when the agent first authenticated, written once (the token writer sets
 * it to itself once it is set), with a partial index over the agents that never have.
 *
 * `never_authenticated=true` used to walk the organization in id order reading
 * `last_auth_at is null`, since no index may read last_auth_at: every issuance stamps it, and an
 * index on it would turn those HOT updates into updates of every agents index. first_auth_at
 * changes once per agent; after that an issuance writes the same value, which keeps its update
 * HOT, and the partial index serves the filter and the id order straight from the never-
 * authenticated agents.
 *
 * The backfill copies last_auth_at, the only record of a past authentication. Plain SQL that
 * PGlite runs as well.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table agents add column first_auth_at timestamptz');
  await knex.raw("comment on column agents.first_auth_at is 'When the agent first authenticated (written once); null: never'");
  await knex.raw('update agents set first_auth_at = last_auth_at where last_auth_at is not null');
  await knex.raw('create index agents_never_authenticated_idx on agents (organization_id, id) where first_auth_at is null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists agents_never_authenticated_idx');
  await knex.raw('alter table agents drop column first_auth_at');
}
