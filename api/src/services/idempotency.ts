/**
 * Idempotent creates. The key's row is inserted first, inside the create's transaction, so a
 * concurrent retry with the same key waits on the primary key and then replays the committed
 * response instead of creating a second object. Same key with a different body is a conflict.
 * Keys are remembered for a TTL (default 24 h); an expired key starts afresh.
 */
import type { Knex } from 'knex';
import { ConflictError } from '../errors';
import * as ops from '../db/operations/idempotency';
import type { AuditContext, AuditEventInput, AuditLog } from './audit';

export interface IdempotentResult<T> {
  status: number;
  /** The body to send now. */
  response: T;
  /** The body to replay later (must hold no secret). */
  stored: T;
  replayed?: boolean;
}

/** What a create's work returns: its result, and optionally its audit event to append last. */
export interface IdempotentWork<T> extends IdempotentResult<T> {
  /**
   * Appended after the response is saved, as the transaction's last statement: appending locks
   * the organization's audit chain head until commit, and every audited change in the
   * organization waits for that lock, so nothing else should run while it is held.
   */
  audit?: { ctx: AuditContext; event: AuditEventInput };
}

export interface IdempotencyScope {
  orgId: string;
  scope: string;
  key: string | undefined;
  requestHash: string;
  /** How long a key is remembered (CERTUSORDO_IDEMPOTENCY_TTL); after that it is a new key. */
  ttlMs: number;
}

/** Stripe's window: long enough for any client retry, short enough that the table stays small. */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** Deletes expired records (the claim already ignores them; this keeps the table small). */
export function purgeExpiredIdempotencyKeys(db: Knex, ttlMs: number, now: number = Date.now()): Promise<number> {
  return ops.deleteExpiredIdempotencyKeys(db, new Date(now - ttlMs));
}

export async function withIdempotency<T>(
  db: Knex,
  auditLog: AuditLog,
  s: IdempotencyScope,
  work: (tx: Knex.Transaction) => Promise<IdempotentWork<T>>,
): Promise<IdempotentResult<T>> {
  return db.transaction(async (tx) => {
    const rowKey = s.key ? { orgId: s.orgId, scope: s.scope, key: s.key } : undefined;
    const now = Date.now();
    if (rowKey && !(await ops.claimIdempotencyKey(tx, rowKey, s.requestHash, new Date(now), new Date(now - s.ttlMs)))) return replay<T>(tx, rowKey, s.requestHash);
    const { audit, ...result } = await work(tx);
    if (rowKey) await ops.saveIdempotentResponse(tx, rowKey, result.status, result.stored);
    if (audit) await auditLog.record(tx, audit.ctx, audit.event);
    return result;
  });
}

/** The committed response of the request that claimed the key, if this request is the same one. */
async function replay<T>(tx: Knex.Transaction, rowKey: ops.IdempotencyRowKey, requestHash: string): Promise<IdempotentResult<T>> {
  const prior = await ops.getIdempotencyRecord(tx, rowKey);
  if (!prior || prior.request_hash !== requestHash) {
    throw new ConflictError('This Idempotency-Key was already used with a different request body', [{ path: 'Idempotency-Key', message: 'reuse a key only to retry the identical request' }]);
  }
  return { status: prior.response_status, response: prior.response_body as T, stored: prior.response_body as T, replayed: true };
}
