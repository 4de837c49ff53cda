/**
 * Bounded growth: ended and expired sessions are deleted after a retention period
 * (CERTUSORDO_SESSION_RETENTION). The purge selects them by the moment the session was over,
 * least(ended_at, expires_at) (least() skips the null ended_at of sessions that were never ended),
 * through this expression index. Spent assertion jtis and revoked-token records already have their
 * expires_at indexes.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index sessions_over_idx on sessions ((least(ended_at, expires_at)))');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists sessions_over_idx');
}
