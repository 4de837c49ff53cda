/**
 * The audit log: every change writes its event in the change's own transaction. Events form a
 * hash chain per organization (hash = SHA-256 of the previous hash and the canonical event), so
 * verification detects an edited, deleted or reordered event even by someone who can bypass the
 * database's append-only trigger.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { uuidv7 } from '../crypto/ids';
import * as ops from '../db/operations/audit';
import type { DbAuditEventRow } from '../db/tables';

/** Who did it, and from where; attached to every mutation. */
export interface AuditContext {
  readonly organizationId: string;
  readonly actorType: 'api_key' | 'agent' | 'system';
  readonly actorId: string | null;
  readonly requestId: string | null;
  readonly clientIp: string | null;
}

export interface AuditEventInput {
  action: string;
  targetType?: string;
  targetId?: string;
  outcome?: 'success' | 'failure';
  reason?: string | null;
  data?: Record<string, unknown>;
}

export function genesisHash(orgId: string): string {
  return createHash('sha256').update(`certusordo-audit-genesis:${orgId}`).digest('hex');
}

/** JSON with object keys sorted at every level, so jsonb's reordering cannot change a hash. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value instanceof Date ? value.toISOString() : value ?? null);
}

export function eventHash(prevHash: string, e: Omit<DbAuditEventRow, 'hash' | 'prev_hash' | 'id'>): string {
  const body = canonicalJson([
    e.organization_id, e.seq, e.action, e.actor_type, e.actor_id, e.target_type, e.target_id,
    e.outcome, e.reason, e.request_id, e.client_ip, e.data, e.created_at.toISOString(),
  ]);
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * Appends an event in the caller's transaction: two statements, the chain-head lock (held until
 * commit, so appends in one organization serialize and the chain stays linear) and the insert
 * with the head's advance. Call it as late as possible in the transaction: every audited change
 * in the organization waits for this lock.
 */
export async function recordAudit(tx: Knex.Transaction, ctx: AuditContext, input: AuditEventInput): Promise<DbAuditEventRow> {
  const head = await ops.lockChainHead(tx, ctx.organizationId);
  if (!head) throw new Error(`organization ${ctx.organizationId} has no audit chain`);
  const base = {
    organization_id: ctx.organizationId,
    seq: Number(head.last_seq) + 1,
    action: input.action,
    actor_type: ctx.actorType,
    actor_id: ctx.actorId,
    target_type: input.targetType ?? null,
    target_id: input.targetId ?? null,
    outcome: input.outcome ?? 'success',
    reason: input.reason ?? null,
    request_id: ctx.requestId,
    client_ip: ctx.clientIp,
    data: input.data ?? {},
    created_at: new Date(),
  };
  const row: DbAuditEventRow = { ...base, id: uuidv7(), prev_hash: head.last_hash, hash: eventHash(head.last_hash, base) };
  await ops.appendAuditEvent(tx, row);
  return row;
}

export interface VerifyResult {
  valid: boolean;
  events_checked: number;
  first_broken_seq: number | null;
  reason: string | null;
}

/** Walks the chain in sequence order, in batches, recomputing every link. */
export async function verifyChain(db: Knex, orgId: string): Promise<VerifyResult> {
  const head = await ops.getChainHead(db, orgId);
  let prev = genesisHash(orgId);
  let expectedSeq = 1;
  let checked = 0;
  const broken = (seq: number, reason: string): VerifyResult => ({ valid: false, events_checked: checked, first_broken_seq: seq, reason });
  for (;;) {
    const batch = await ops.listAuditEvents(db, orgId, { afterSeq: expectedSeq - 1, limit: 1000 });
    if (batch.length === 0) break;
    for (const e of batch) {
      if (Number(e.seq) !== expectedSeq) return broken(expectedSeq, `event ${expectedSeq} is missing`);
      if (e.prev_hash !== prev) return broken(expectedSeq, `event ${expectedSeq} does not link to its predecessor`);
      const recomputed = eventHash(prev, { ...e, seq: Number(e.seq), created_at: new Date(e.created_at) });
      if (recomputed !== e.hash) return broken(expectedSeq, `event ${expectedSeq} was altered`);
      prev = e.hash;
      expectedSeq++;
      checked++;
    }
  }
  const lastSeq = head ? Number(head.last_seq) : 0;
  if (lastSeq !== checked) return broken(checked + 1, `the chain head records ${lastSeq} events but ${checked} remain`);
  if (head && head.last_hash !== prev) return broken(checked, 'the last event does not match the chain head');
  return { valid: true, events_checked: checked, first_broken_seq: null, reason: null };
}

/** The API's view of an event: the row without its tenant and chain link, with an ISO timestamp. */
export type AuditEvent = Omit<DbAuditEventRow, 'organization_id' | 'prev_hash' | 'created_at'> & { created_at: string };

export function toAuditEvent(r: DbAuditEventRow): AuditEvent {
  const { organization_id: _org, prev_hash: _prev, ...rest } = r;
  return { ...rest, seq: Number(r.seq), created_at: new Date(r.created_at).toISOString() };
}
