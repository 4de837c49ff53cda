/**
 * Idempotent creates. The key's row is inserted first, inside the create's transaction, so a
 * concurrent retry with the same key waits on the primary key and then replays the committed
 * response instead of creating a second object. Same key with a different body is a conflict.
 * Keys are remembered for a TTL (default 24 h); an expired key starts afresh.
 */
import type { Knex } from 'knex';
import { ConflictError } from '../domain/errors';
import * as ops from '../db/operations/idempotency';
import type { AuditLog, AuditUnit } from './audit';

export interface IdempotentResult<T> {
  /** The body to send now. */
  response: T;
  /** The body to replay later (must hold no secret). */
  stored: T;
  replayed?: boolean;
}

/** What a create's work returns: the body to send now and the body to replay later. */
export type IdempotentWork<T> = Omit<IdempotentResult<T>, 'replayed'>;

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
  work: (tx: Knex.Transaction, audit: AuditUnit) => Promise<IdempotentWork<T>>,
): Promise<IdempotentResult<T>> {
  // An audited unit of work: the events the work queues are appended after the response is saved.
  return auditLog.withAudit(db, async (tx, audit) => {
    const rowKey = s.key ? { orgId: s.orgId, scope: s.scope, key: s.key } : undefined;
    const now = Date.now();
    if (rowKey && !(await ops.claimIdempotencyKey(tx, rowKey, s.requestHash, new Date(now), new Date(now - s.ttlMs)))) return replay<T>(tx, rowKey, s.requestHash);
    const result = await work(tx, audit);
    if (rowKey) await ops.saveIdempotentResponse(tx, rowKey, result.stored);
    return result;
  });
}

/** The committed response of the request that claimed the key, if this request is the same one. */
async function replay<T>(tx: Knex.Transaction, rowKey: ops.IdempotencyRowKey, requestHash: string): Promise<IdempotentResult<T>> {
  const prior = await ops.getIdempotencyRecord(tx, rowKey);
  if (!prior || prior.request_hash !== requestHash) {
    throw new ConflictError('This Idempotency-Key was already used with a different request body', [{ path: 'Idempotency-Key', message: 'reuse a key only to retry the identical request' }]);
  }
  return { response: prior.response_body as T, stored: prior.response_body as T, replayed: true };
}
