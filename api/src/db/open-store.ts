/**
 * What every process that opens the database does first (`serve`, `migrate`, `orgs create`,
 * `api-keys create-local`): connect (bounded), check the master key against the database's
 * fingerprint (a key file is generated only for a database that holds nothing sealed yet),
 * migrate with the key, and record the fingerprint if none is stored. Any failure closes the database and throws a
 * FatalStartError that names the cause and the fix.
 */
import type { Config } from '../config';
import type { MasterKey } from '../crypto/master-key';
import { openDatabase, Database } from './connect';
import { migrateLatest } from './migrate';
import { keyForEmptyDatabase, KeyPolicy, precheckMasterKey, settleMasterKey } from './master-key-check';

export interface OpenedStore<K extends MasterKey | null = MasterKey> {
  readonly db: Database;
  readonly keys: K;
  /** Migrations applied by this open. */
  readonly applied: string[];
}

export async function openStore(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'masterKey'>, policy: 'require'): Promise<OpenedStore<MasterKey>>;
export async function openStore(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'masterKey'>, policy: KeyPolicy): Promise<OpenedStore<MasterKey | null>>;
export async function openStore(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'masterKey'>, policy: KeyPolicy): Promise<OpenedStore<MasterKey | null>> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const opts = { masterKey: config.masterKey, dataDir: config.dataDir, policy };
    let loaded = await precheckMasterKey(db.knex, opts);
    if (!loaded && policy === 'require') loaded = await keyForEmptyDatabase(db.knex, opts);
    // Checked against the fingerprint above when the database has one; a migration that seals
    // existing data (the audit chains' cut-over) uses it.
    const applied = await migrateLatest(db.knex, { keys: loaded?.keys ?? null });
    loaded = await settleMasterKey(db.knex, opts, loaded);
    return { db, keys: loaded?.keys ?? null, applied };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
