/**
 * Indexes that keep every documented list filter's cost independent of the organization's size.
 * A list is a keyset page in id (or seq) order with a limit; without an index that serves both the
 * filter and the order, a rare value (0.1 % suspended agents, the few live sessions among a month
 * of expired ones, a rare audit action) makes PostgreSQL walk the whole organization in id order
 * to fill one page.
 *
 * - agents (organization_id, status, id): `status=` pages straight from the index;
 * - sessions (organization_id, status, id): `status=exhausted|ended|expired`;
 * - sessions (organization_id, expires_at, id) where status = 'active': `status=active` (the live
 *   sessions are the newest few among the active-in-table rows, most of them long expired);
 * - audit_events (organization_id, action, seq): `action=`;
 * - audit_events (organization_id, created_at, seq): the seq bounds that `since`/`until` are
 *   turned into (db/operations/audit.ts listAuditEvents).
 *
 * No index touches agents.last_auth_at on purpose: every token issuance stamps it, and an index on
 * it (or a partial index whose predicate reads it) would turn each of those updates from a HOT
 * update into one that writes a new entry in every agents index. `never_authenticated` and
 * `inactive_since` walk the organization in id order instead, reading about limit / (share of
 * agents that match) rows: the cost follows how rare the match is, not how many agents there are.
 *
 * Expand-only: nothing is dropped or rewritten, so replicas still on the previous version keep
 * working while it runs. `if not exists` lets an operator of a large PostgreSQL database build the
 * same indexes beforehand with CREATE INDEX CONCURRENTLY (docs/operations.md); this migration then
 * only records itself. Plain SQL that PGlite runs as well.
 */
import type { Knex } from 'knex';

export const LIST_INDEXES: ReadonlyArray<readonly [name: string, definition: string]> = [
  ['agents_status_idx', 'agents (organization_id, status, id)'],
  ['sessions_status_idx', 'sessions (organization_id, status, id)'],
  ['sessions_live_idx', "sessions (organization_id, expires_at, id) where status = 'active'"],
  ['audit_events_action_idx', 'audit_events (organization_id, action, seq)'],
  ['audit_events_created_idx', 'audit_events (organization_id, created_at, seq)'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [name, definition] of LIST_INDEXES) await knex.raw(`create index if not exists ${name} on ${definition}`);
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of [...LIST_INDEXES].reverse()) await knex.raw(`drop index if exists ${name}`);
}
