/** Idempotency-key queries. Plain SQL: an idempotent create runs both of them. */
import type { Knex } from 'knex';
import type { DbIdempotencyRow } from '../tables';

export interface IdempotencyRowKey {
  orgId: string;
  scope: string;
  key: string;
}

/**
 * Inserts the key's placeholder row unless a live one exists; true when this call claimed it. A
 * row created before `expiredBefore` is taken over as if the key were new, whether or not the
 * purge has deleted it yet. A concurrent claim of the same key waits here on the primary key
 * until the other commits.
 */
export async function claimIdempotencyKey(tx: Knex.Transaction, k: IdempotencyRowKey, requestHash: string, at: Date, expiredBefore: Date): Promise<boolean> {
  const r = await tx.raw(
    `insert into idempotency_keys (organization_id, scope, key, request_hash, response_status, response_body, created_at)
     values (?, ?, ?, ?, 0, '{}', ?)
     on conflict (organization_id, scope, key) do update
       set request_hash = excluded.request_hash, response_status = 0, response_body = '{}', created_at = excluded.created_at
       where idempotency_keys.created_at < ?
     returning key`,
    [k.orgId, k.scope, k.key, requestHash, at, expiredBefore],
  );
  return r.rows.length > 0;
}

/** Deletes records created before `expiredBefore` (index on created_at); returns how many. */
export async function deleteExpiredIdempotencyKeys(db: Knex, expiredBefore: Date): Promise<number> {
  return db('idempotency_keys').where('created_at', '<', expiredBefore).delete();
}

export async function getIdempotencyRecord(tx: Knex.Transaction, k: IdempotencyRowKey): Promise<DbIdempotencyRow | undefined> {
  return tx<DbIdempotencyRow>('idempotency_keys').where({ organization_id: k.orgId, scope: k.scope, key: k.key }).first();
}

/**
 * Stores the response a retry replays (it must hold no secret). Every idempotent request is a
 * create, so a replay is answered like the original (201) and response_status is not written.
 */
export async function saveIdempotentResponse(tx: Knex.Transaction, k: IdempotencyRowKey, body: unknown): Promise<void> {
  await tx.raw(`update idempotency_keys set response_body = ? where organization_id = ? and scope = ? and key = ?`, [JSON.stringify(body), k.orgId, k.scope, k.key]);
}
