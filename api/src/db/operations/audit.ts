/** Audit log queries. Appends lock the organization's chain head so sequence and hash stay in order. */
import type { Knex } from 'knex';
import type { DbAuditChainHeadRow, DbAuditEventRow } from '../tables';

type Tx = Knex | Knex.Transaction;

export async function insertChainHead(tx: Tx, orgId: string, genesisHash: string): Promise<void> {
  await tx('audit_chain_heads').insert({ organization_id: orgId, last_seq: 0, last_hash: genesisHash });
}

/** Locks the organization's chain head until commit. Plain SQL: it runs once per audited change. */
export async function lockChainHead(tx: Knex.Transaction, orgId: string): Promise<DbAuditChainHeadRow | undefined> {
  const r = await tx.raw(`select organization_id, last_seq, last_hash from audit_chain_heads where organization_id = ? for update`, [orgId]);
  return (r.rows as DbAuditChainHeadRow[])[0];
}

export async function getChainHead(tx: Tx, orgId: string): Promise<DbAuditChainHeadRow | undefined> {
  return tx<DbAuditChainHeadRow>('audit_chain_heads').where({ organization_id: orgId }).first();
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

export interface AuditFilter {
  agentId?: string;
  action?: string;
  since?: Date;
  until?: Date;
  afterSeq?: number;
  limit: number;
}

export async function listAuditEvents(tx: Tx, orgId: string, f: AuditFilter): Promise<DbAuditEventRow[]> {
  const q = tx<DbAuditEventRow>('audit_events').where({ organization_id: orgId });
  if (f.agentId) q.where({ target_id: f.agentId });
  if (f.action) q.where({ action: f.action });
  if (f.since) q.where('created_at', '>=', f.since);
  if (f.until) q.where('created_at', '<', f.until);
  if (f.afterSeq !== undefined) q.where('seq', '>', f.afterSeq);
  return q.orderBy('seq', 'asc').limit(f.limit);
}
