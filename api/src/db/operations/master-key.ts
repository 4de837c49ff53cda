/** The stored master-key fingerprint (a one-row table). */
import type { Knex } from 'knex';

type Tx = Knex | Knex.Transaction;

export async function getMasterKeyFingerprint(tx: Tx): Promise<string | undefined> {
  const row: { fingerprint: string } | undefined = await tx('master_key_fingerprint').where('id', 1).first('fingerprint');
  return row?.fingerprint;
}

/**
 * Records `fingerprint` unless one is already stored: of two processes racing on an empty
 * database, exactly one insert wins (the primary key) and the other finds the winner's value.
 */
export async function insertMasterKeyFingerprint(tx: Tx, fingerprint: string): Promise<void> {
  await tx('master_key_fingerprint').insert({ id: 1, fingerprint }).onConflict('id').ignore();
}
