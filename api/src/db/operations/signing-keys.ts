/** Signing-key queries: one function per query, each taking the knex handle or transaction to run on. */
import type { Knex } from 'knex';
import type { DbSigningKeyRow } from '../tables';

type Tx = Knex | Knex.Transaction;

/** Serializes rotations and first-key creation of one organization across replicas (held until the transaction ends). */
export async function lockOrganizationSigningKeys(tx: Knex.Transaction, orgId: string): Promise<void> {
  await tx.raw(`select pg_advisory_xact_lock(hashtextextended('certusordo.signing_keys:' || ?, 0))`, [orgId]);
}

/** The organization's current key and its retired ones still published (their tokens may not have expired yet), newest first. */
export async function listPublishedSigningKeys(tx: Tx, orgId: string, now: Date): Promise<DbSigningKeyRow[]> {
  return tx<DbSigningKeyRow>('signing_keys')
    .where({ organization_id: orgId })
    .andWhere((w) => w.whereNull('expires_at').orWhere('expires_at', '>', now))
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'kid' }]);
}

export async function getCurrentSigningKey(tx: Tx, orgId: string): Promise<DbSigningKeyRow | undefined> {
  return tx<DbSigningKeyRow>('signing_keys').where({ organization_id: orgId }).whereNull('rotated_at').first();
}

export async function insertSigningKey(tx: Tx, row: DbSigningKeyRow): Promise<void> {
  await tx('signing_keys').insert(row);
}

export async function retireSigningKey(tx: Tx, orgId: string, kid: string, rotatedAt: Date, expiresAt: Date): Promise<number> {
  return tx('signing_keys').where({ organization_id: orgId, kid }).whereNull('rotated_at').update({ rotated_at: rotatedAt, expires_at: expiresAt });
}

/** Retired keys whose last token has expired: the organization's, or every organization's. */
export async function deleteExpiredSigningKeys(tx: Tx, now: Date, orgId?: string): Promise<number> {
  const q = tx('signing_keys').whereNotNull('expires_at').andWhere('expires_at', '<=', now);
  return (orgId === undefined ? q : q.andWhere({ organization_id: orgId })).delete();
}

/** Organizations whose current key was created before `createdBefore` (scheduled rotation), oldest first. */
export async function listOrganizationsWithKeysDue(tx: Tx, createdBefore: Date, limit: number): Promise<string[]> {
  const rows = await tx<DbSigningKeyRow>('signing_keys').select('organization_id')
    .whereNull('rotated_at').andWhere('created_at', '<', createdBefore)
    .orderBy('created_at').limit(limit);
  return rows.map((r) => r.organization_id);
}
