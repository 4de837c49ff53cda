/** Audit log queries. Appends lock the organization's chain head so sequence and hash stay in order. */
import type { Knex } from 'knex';
import type { DbAuditChainHeadRow, DbAuditEventRow } from '../tables';

type Tx = Knex | Knex.Transaction;

export async function insertChainHead(tx: Tx, orgId: string, genesisHash: string): Promise<void> {
  await tx('audit_chain_heads').insert({ organization_id: orgId, last_seq: 0, last_hash: genesisHash });
}

export async function lockChainHead(tx: Knex.Transaction, orgId: string): Promise<DbAuditChainHeadRow | undefined> {
  return tx<DbAuditChainHeadRow>('audit_chain_heads').where({ organization_id: orgId }).forUpdate().first();
}

export async function getChainHead(tx: Tx, orgId: string): Promise<DbAuditChainHeadRow | undefined> {
  return tx<DbAuditChainHeadRow>('audit_chain_heads').where({ organization_id: orgId }).first();
}

export async function advanceChainHead(tx: Knex.Transaction, orgId: string, seq: number, hash: string): Promise<void> {
  await tx('audit_chain_heads').where({ organization_id: orgId }).update({ last_seq: seq, last_hash: hash });
}

export async function insertAuditEvent(tx: Knex.Transaction, row: DbAuditEventRow): Promise<void> {
  await tx('audit_events').insert({ ...row, data: JSON.stringify(row.data) });
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
