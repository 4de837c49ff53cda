/**
 * Audit log queries. Appends lock the organization's chain head so sequence and hash stay in order;
 * only the audited unit of work (services/audit-unit.ts) locks heads and appends.
 */
import type { Knex } from 'knex';
import type { DbAuditChainHeadRow, DbAuditEventRow } from '../tables';

type Tx = Knex | Knex.Transaction;

/**
 * The chain head with its cut-over record: a chain that began before the chain was keyed has its
 * last plain SHA-256 link (`legacy_seq`, `legacy_hash`) sealed with an HMAC under the chain key
 * (`legacy_mac`); a chain keyed from its genesis has all three null.
 */
export interface DbAuditChainHead extends DbAuditChainHeadRow {
  legacy_seq: number | null;
  legacy_hash: string | null;
  legacy_mac: string | null;
}

/** The last point a verification reached, sealed with an HMAC under the chain key. */
export interface DbAuditVerifiedPoint {
  organization_id: string;
  seq: number;
  hash: string;
  mac: string;
  verified_at: Date;
}

/** The columns a chain link covers (everything but the row id). */
export type DbAuditLinkRow = Omit<DbAuditEventRow, 'id'>;

const LINK_COLUMNS = [
  'organization_id', 'seq', 'action', 'actor_type', 'actor_id', 'target_type', 'target_id', 'outcome', 'reason',
  'request_id', 'client_ip', 'data', 'created_at', 'prev_hash', 'hash',
] as const;

export async function insertChainHead(tx: Tx, orgId: string, genesisHash: string): Promise<void> {
  await tx('audit_chain_heads').insert({ organization_id: orgId, last_seq: 0, last_hash: genesisHash });
}

/** Locks the organization's chain head until commit. Plain SQL: it runs once per audited change. */
export async function lockChainHead(tx: Knex.Transaction, orgId: string): Promise<DbAuditChainHeadRow | undefined> {
  const r = await tx.raw(`select organization_id, last_seq, last_hash from audit_chain_heads where organization_id = ? for update`, [orgId]);
  return (r.rows as DbAuditChainHeadRow[])[0];
}

export async function getChainHead(tx: Tx, orgId: string): Promise<DbAuditChainHead | undefined> {
  const row = await tx<DbAuditChainHead>('audit_chain_heads')
    .select('organization_id', 'last_seq', 'last_hash', 'legacy_seq', 'legacy_hash', 'legacy_mac')
    .where({ organization_id: orgId })
    .first();
  return row && { ...row, last_seq: Number(row.last_seq), legacy_seq: row.legacy_seq === null ? null : Number(row.legacy_seq) };
}

/**
 * Appends one event and advances its organization's chain head to it, in one statement (one
 * round trip instead of two). The caller holds the head's lock (lockChainHead) and computed the
 * event's link from it, so the chain stays linear; the statement is atomic.
 */
export async function appendAuditEvent(tx: Knex.Transaction, row: DbAuditEventRow): Promise<void> {
  await tx.raw(
    `with event as (
       insert into audit_events (id, organization_id, seq, action, actor_type, actor_id, target_type, target_id, outcome, reason,
                                 request_id, client_ip, data, created_at, prev_hash, hash)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     )
     update audit_chain_heads set last_seq = ?, last_hash = ? where organization_id = ?`,
    [
      row.id, row.organization_id, row.seq, row.action, row.actor_type, row.actor_id, row.target_type, row.target_id, row.outcome, row.reason,
      row.request_id, row.client_ip, JSON.stringify(row.data), row.created_at, row.prev_hash, row.hash,
      row.seq, row.hash, row.organization_id,
    ],
  );
}

/** Locks several organizations' audit chain heads, in organization id order. */
export async function lockChainHeads(tx: Knex.Transaction, orgIds: string[]): Promise<DbAuditChainHeadRow[]> {
  return tx<DbAuditChainHeadRow>('audit_chain_heads').select('organization_id', 'last_seq', 'last_hash').whereIn('organization_id', orgIds).orderBy('organization_id').forUpdate();
}

/**
 * The insert of audit events as SQL and bindings to embed in a larger statement: one array per
 * column, so the text is the same for any number of events (a named prepared statement plans it
 * once per connection) and the driver binds sixteen values instead of sixteen per event.
 */
export function auditEventsInsert(rows: readonly DbAuditEventRow[]): { sql: string; bindings: Knex.Value[] } {
  const col = <K extends keyof DbAuditEventRow>(k: K) => rows.map((r) => r[k]);
  return {
    sql: `insert into audit_events (id, organization_id, seq, action, actor_type, actor_id, target_type, target_id, outcome, reason,
                                    request_id, client_ip, data, created_at, prev_hash, hash)
          select * from unnest(?::uuid[], ?::uuid[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                               ?::text[], ?::text[], ?::jsonb[], ?::timestamptz[], ?::text[], ?::text[])`,
    bindings: [
      col('id'), col('organization_id'), col('seq'), col('action'), col('actor_type'), col('actor_id'), col('target_type'), col('target_id'),
      col('outcome'), col('reason'), col('request_id'), col('client_ip'), rows.map((r) => JSON.stringify(r.data)), col('created_at'),
      col('prev_hash'), col('hash'),
    ] as Knex.Value[],
  };
}

/** Appends audit events (their links computed under the head locks) and advances the heads, in one statement. */
export async function appendAuditEvents(tx: Knex.Transaction, rows: DbAuditEventRow[], heads: { organization_id: string; last_seq: number; last_hash: string }[]): Promise<void> {
  if (rows.length === 0) return;
  const insert = auditEventsInsert(rows);
  await tx.raw(
    `with ins as (${insert.sql})
     update audit_chain_heads h set last_seq = u.last_seq, last_hash = u.last_hash
       from unnest(?::uuid[], ?::bigint[], ?::text[]) as u(organization_id, last_seq, last_hash)
      where h.organization_id = u.organization_id`,
    [...insert.bindings, heads.map((h) => h.organization_id), heads.map((h) => h.last_seq), heads.map((h) => h.last_hash)],
  ).options({ name: 'certusordo_append_audit_events' });
}

export interface AuditFilter {
  agentId?: string;
  action?: string;
  since?: Date;
  until?: Date;
  /** Continue after this seq in the list's order (asc: greater seqs; desc: smaller ones). */
  afterSeq?: number;
  order?: 'asc' | 'desc';
  limit: number;
}

/**
 * How far an event's created_at may lag behind or run ahead of its seq order (replicas' clocks
 * disagree a little; seq is assigned under the chain-head lock, created_at by the appending
 * replica's clock). `since`/`until` are exact for every event within this slack.
 */
export const TIME_ORDER_SLACK_MS = 60_000;

export async function listAuditEvents(tx: Tx, orgId: string, f: AuditFilter): Promise<DbAuditEventRow[]> {
  const q = tx<DbAuditEventRow>('audit_events').where({ organization_id: orgId });
  if (f.agentId) q.where({ target_id: f.agentId });
  if (f.action) q.where({ action: f.action });
  // A time range becomes a seq range, found through audit_events_created_idx, so the page is read
  // in seq order from near the range's start (or end) instead of from the organization's first (or
  // last) event. Times follow seq except for clock differences between replicas, which
  // TIME_ORDER_SLACK_MS covers. The exact time test stays, written so that it does not match an
  // index: otherwise PostgreSQL may read the whole time range through the created_at index and sort it.
  if (f.since) {
    q.whereRaw(`created_at + interval '0 seconds' >= ?`, [f.since]);
    q.where('seq', '>', tx.raw(
      `coalesce((select e.seq from audit_events e where e.organization_id = ? and e.created_at < ? order by e.created_at desc, e.seq desc limit 1), 0)`,
      [orgId, new Date(f.since.getTime() - TIME_ORDER_SLACK_MS)],
    ));
  }
  if (f.until) {
    q.whereRaw(`created_at + interval '0 seconds' < ?`, [f.until]);
    q.where('seq', '<', tx.raw(
      `coalesce((select e.seq from audit_events e where e.organization_id = ? and e.created_at >= ? order by e.created_at, e.seq limit 1), 9223372036854775807)`,
      [orgId, new Date(f.until.getTime() + TIME_ORDER_SLACK_MS)],
    ));
  }
  const order = f.order ?? 'asc';
  if (f.afterSeq !== undefined) q.where('seq', order === 'asc' ? '>' : '<', f.afterSeq);
  return q.orderBy('seq', order).limit(f.limit);
}

/** One stretch of the chain for verification: events after `afterSeq` up to `throughSeq`, in order. */
export async function listChainSegment(tx: Tx, orgId: string, afterSeq: number, throughSeq: number, limit: number): Promise<DbAuditLinkRow[]> {
  return tx<DbAuditLinkRow>('audit_events')
    .select(...LINK_COLUMNS)
    .where({ organization_id: orgId })
    .andWhere('seq', '>', afterSeq)
    .andWhere('seq', '<=', throughSeq)
    .orderBy('seq', 'asc')
    .limit(limit);
}

export async function getChainEvent(tx: Tx, orgId: string, seq: number): Promise<DbAuditLinkRow | undefined> {
  return tx<DbAuditLinkRow>('audit_events').select(...LINK_COLUMNS).where({ organization_id: orgId, seq }).first();
}

/** The highest sequence number stored for the organization (0 without events). */
export async function maxEventSeq(tx: Tx, orgId: string): Promise<number> {
  const row = await tx('audit_events').where({ organization_id: orgId }).max<{ max: number | string | null }>('seq as max').first();
  return Number(row?.max ?? 0);
}

export async function getVerifiedPoint(tx: Tx, orgId: string): Promise<DbAuditVerifiedPoint | undefined> {
  const row = await tx<DbAuditVerifiedPoint>('audit_verified_points').where({ organization_id: orgId }).first();
  return row && { ...row, seq: Number(row.seq) };
}

/** Records a verified point; never moves an organization's point backwards (replicas verify concurrently). */
export async function saveVerifiedPoint(tx: Tx, p: DbAuditVerifiedPoint): Promise<void> {
  await tx.raw(
    `insert into audit_verified_points (organization_id, seq, hash, mac, verified_at) values (?, ?, ?, ?, ?)
     on conflict (organization_id) do update set seq = excluded.seq, hash = excluded.hash, mac = excluded.mac, verified_at = excluded.verified_at
      where audit_verified_points.seq <= excluded.seq`,
    [p.organization_id, p.seq, p.hash, p.mac, p.verified_at],
  );
}
