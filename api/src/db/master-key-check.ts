/**
 * One master key per database. The database stores the fingerprint of the master key its
 * secrets (API-key hashes, signing keys, audit chains) were sealed with; every process that opens
 * it — server replicas and the CLI's database commands alike — compares its own key and refuses
 * on a mismatch, before it reads or writes anything sealed. The first process to open a database
 * that has no fingerprint yet records its own (a fresh database, or one created before
 * fingerprints existed: it adopts the first key that opens it).
 */
import fs from 'node:fs';
import type { Knex } from 'knex';
import { createMasterKeyFile, LoadedMasterKey, masterKeyFile, MasterKeySource, readMasterKey } from '../crypto/master-key';
import { FatalStartError } from '../fatal';
import { getMasterKeyFingerprint, insertMasterKeyFingerprint } from './operations/master-key';
import { countOrganizations } from './operations/organizations';

const TABLE = 'master_key_fingerprint';

function short(fingerprint: string): string {
  return fingerprint.slice(0, 12);
}

function describe(source: MasterKeySource): string {
  return source.kind === 'env' ? 'CERTUSORDO_MASTER_KEY' : `the key file ${source.path}`;
}

export class MasterKeyMismatchError extends FatalStartError {
  constructor(stored: string, loaded: LoadedMasterKey) {
    super(
      `The database's keys were sealed with another master key (the database expects fingerprint ${short(stored)}…; ` +
        `this process's key, from ${describe(loaded.source)}, has fingerprint ${short(loaded.keys.fingerprint)}…)`,
      'Give every replica (and every certusordo command that opens this database) the same CERTUSORDO_MASTER_KEY: the key the database was first opened with',
    );
    this.name = 'MasterKeyMismatchError';
  }
}

export class MasterKeyMissingError extends FatalStartError {
  /** `stored` is absent for a database that holds data from before fingerprints were recorded. */
  constructor(stored: string | undefined, dataDir: string) {
    super(
      (stored ? `The database's keys were sealed with a master key (fingerprint ${short(stored)}…) that this process does not have`
        : 'The database already holds keys sealed with a master key that this process does not have') +
        `: CERTUSORDO_MASTER_KEY is not set and there is no key file at ${masterKeyFile(dataDir)} (no new key file was generated)`,
      'Set CERTUSORDO_MASTER_KEY to the master key the server uses: give every replica and every certusordo command the same CERTUSORDO_MASTER_KEY',
    );
    this.name = 'MasterKeyMissingError';
  }
}

export type KeyPolicy =
  /** Needs a key: the configured one, the key file, or — for a database that has no fingerprint yet — a new key file. */
  | 'require'
  /** Checks a key if the process has one (configured or key file) and never creates one (`migrate`). */
  | 'if-present';

export interface KeyCheckOptions {
  masterKey: string | undefined;
  dataDir: string;
  policy: KeyPolicy;
}

/**
 * Before migrating: when the fingerprint table exists, refuse a wrong or missing key before
 * anything else happens. Returns the loaded key (null when the process has none).
 */
export async function precheckMasterKey(knex: Knex, opts: KeyCheckOptions): Promise<LoadedMasterKey | null> {
  const loaded = readMasterKey(opts.masterKey, opts.dataDir);
  if (!(await knex.schema.hasTable(TABLE))) return loaded;
  const stored = await getMasterKeyFingerprint(knex);
  if (stored === undefined) return loaded;
  if (loaded && loaded.keys.fingerprint !== stored) throw new MasterKeyMismatchError(stored, loaded);
  if (!loaded && opts.policy === 'require') throw new MasterKeyMissingError(stored, opts.dataDir);
  return loaded;
}

/**
 * Before migrating, for a process without a key that needs one: a new key file, but only for a
 * database that holds nothing sealed yet (no organization). A database with data and no
 * fingerprint predates fingerprints; its keys were sealed with a key this process lacks.
 */
export async function keyForEmptyDatabase(knex: Knex, opts: KeyCheckOptions): Promise<LoadedMasterKey> {
  if ((await knex.schema.hasTable('organizations')) && (await countOrganizations(knex)) > 0) throw new MasterKeyMissingError(undefined, opts.dataDir);
  return createMasterKeyFile(opts.dataDir);
}

/**
 * After migrating: the first key to open the database records its fingerprint; a process that
 * lost that race with another key refuses (and removes the key file it just made).
 */
export async function settleMasterKey(knex: Knex, opts: KeyCheckOptions, loaded: LoadedMasterKey | null): Promise<LoadedMasterKey | null> {
  if (!loaded) {
    if (opts.policy === 'require') throw new Error('settleMasterKey: a required key was not loaded');
    return null;
  }
  await insertMasterKeyFingerprint(knex, loaded.keys.fingerprint);
  const stored = (await getMasterKeyFingerprint(knex))!;
  if (stored !== loaded.keys.fingerprint) {
    if (loaded.source.kind === 'file' && loaded.source.created) fs.rmSync(loaded.source.path, { force: true });
    throw new MasterKeyMismatchError(stored, loaded);
  }
  return loaded;
}
