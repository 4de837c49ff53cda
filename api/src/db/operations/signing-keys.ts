/** Signing-key queries: one function per query, each taking the knex handle or transaction to run on. */
import type { Knex } from 'knex';
import type { DbSigningKeyRow } from '../tables';

type Tx = Knex | Knex.Transaction;

/** Serializes rotations across replicas (held until the transaction ends). */
export async function lockSigningKeys(tx: Knex.Transaction): Promise<void> {
  await tx.raw(`select pg_advisory_xact_lock(hashtext('certusordo.signing_keys'))`);
}

/** The current key and the retired ones still published (their tokens may not have expired yet), newest first. */
export async function listPublishedSigningKeys(tx: Tx, now: Date): Promise<DbSigningKeyRow[]> {
  return tx<DbSigningKeyRow>('signing_keys')
    .where((w) => w.whereNull('expires_at').orWhere('expires_at', '>', now))
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'kid' }]);
}

export async function getCurrentSigningKey(tx: Tx): Promise<DbSigningKeyRow | undefined> {
  return tx<DbSigningKeyRow>('signing_keys').whereNull('rotated_at').first();
}

export async function insertSigningKey(tx: Tx, row: DbSigningKeyRow): Promise<void> {
  await tx('signing_keys').insert(row);
}

export async function retireSigningKey(tx: Tx, kid: string, rotatedAt: Date, expiresAt: Date): Promise<number> {
  return tx('signing_keys').where({ kid }).whereNull('rotated_at').update({ rotated_at: rotatedAt, expires_at: expiresAt });
}

export async function deleteExpiredSigningKeys(tx: Tx, now: Date): Promise<number> {
  return tx('signing_keys').whereNotNull('expires_at').andWhere('expires_at', '<=', now).delete();
}
