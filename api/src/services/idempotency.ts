/**
 * Idempotent creates. The key's row is inserted first, inside the create's transaction, so a
 * concurrent retry with the same key waits on the primary key and then replays the committed
 * response instead of creating a second object. Same key with a different body is a conflict.
 */
import type { Knex } from 'knex';
import { ConflictError } from '../errors';
import type { DbIdempotencyRow } from '../db/tables';

export interface IdempotentResult<T> {
  status: number;
  /** The body to send now. */
  response: T;
  /** The body to replay later (must hold no secret). */
  stored: T;
  replayed?: boolean;
}

export interface IdempotencyScope {
  orgId: string;
  scope: string;
  key: string | undefined;
  requestHash: string;
}

export function pgErrorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export async function withIdempotency<T>(
  db: Knex,
  s: IdempotencyScope,
  work: (tx: Knex.Transaction) => Promise<IdempotentResult<T>>,
): Promise<IdempotentResult<T>> {
  if (!s.key) return db.transaction(work);
  return db.transaction(async (tx) => {
    const claimed = await tx('idempotency_keys')
      .insert({ organization_id: s.orgId, scope: s.scope, key: s.key, request_hash: s.requestHash, response_status: 0, response_body: '{}', created_at: new Date() })
      .onConflict(['organization_id', 'scope', 'key'])
      .ignore()
      .returning('key');
    if (claimed.length === 0) {
      const prior = await tx<DbIdempotencyRow>('idempotency_keys').where({ organization_id: s.orgId, scope: s.scope, key: s.key }).first();
      if (!prior || prior.request_hash !== s.requestHash) {
        throw new ConflictError('This Idempotency-Key was already used with a different request body', [{ path: 'Idempotency-Key', message: 'reuse a key only to retry the identical request' }]);
      }
      return { status: prior.response_status, response: prior.response_body as T, stored: prior.response_body as T, replayed: true };
    }
    const result = await work(tx);
    await tx('idempotency_keys')
      .where({ organization_id: s.orgId, scope: s.scope, key: s.key })
      .update({ response_status: result.status, response_body: JSON.stringify(result.stored) });
    return result;
  });
}
