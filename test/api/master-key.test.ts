/**
 * One master key per database: the first key to open a database records its fingerprint; any
 * other key, or no key at all, is refused before anything sealed is read or written, and no key
 * file is ever generated for a database that already has a key.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore } from '../../api/src/db/open-store';
import { MasterKeyMismatchError, MasterKeyMissingError } from '../../api/src/db/master-key-check';
import { readMasterKey } from '../../api/src/crypto/master-key';
import { createTestStore, TestStore } from '../support/databases';

const newKey = () => randomBytes(32).toString('base64url');
const cfg = (store: TestStore, masterKey: string | undefined, dataDir = store.dataDir) => ({ databaseUrl: store.databaseUrl, dataDir, masterKey });

async function storedFingerprint(store: TestStore): Promise<string | undefined> {
  const { db } = await openStore(cfg(store, undefined), 'if-present');
  try {
    return (await db.knex('master_key_fingerprint').first('fingerprint'))?.fingerprint;
  } finally {
    await db.close();
  }
}

test('the first key records its fingerprint (not the key); the same key opens again; another key is refused with the fix', async () => {
  const store = await createTestStore();
  const k1 = newKey();
  const first = await openStore(cfg(store, k1), 'require');
  await first.db.close();
  const fingerprint = await storedFingerprint(store);
  expect(fingerprint).toBe(readMasterKey(k1, store.dataDir)!.keys.fingerprint);
  expect(fingerprint).not.toContain(k1);

  const again = await openStore(cfg(store, k1), 'require');
  await again.db.close();

  const wrong = openStore(cfg(store, newKey()), 'require');
  await expect(wrong).rejects.toBeInstanceOf(MasterKeyMismatchError);
  await expect(wrong).rejects.toThrow(/The database's keys were sealed with another master key.*give every replica .*the same CERTUSORDO_MASTER_KEY/is);
  // `migrate` with a wrong key is refused too.
  await expect(openStore(cfg(store, newKey()), 'if-present')).rejects.toBeInstanceOf(MasterKeyMismatchError);
});

test('without a key, a database that has one is refused and no key file is generated', async () => {
  const store = await createTestStore();
  await (await openStore(cfg(store, newKey()), 'require')).db.close();
  // A data directory of its own (on PGlite the store's, which has no key file: the key came from the env).
  const dataDir = store.databaseUrl ? fs.mkdtempSync(path.join(store.dataDir, 'cli-')) : store.dataDir;
  const missing = openStore(cfg(store, undefined, dataDir), 'require');
  await expect(missing).rejects.toBeInstanceOf(MasterKeyMissingError);
  await expect(missing).rejects.toThrow(/CERTUSORDO_MASTER_KEY is not set.*no new key file was generated.*Set CERTUSORDO_MASTER_KEY/is);
  expect(fs.existsSync(path.join(dataDir, 'master.key'))).toBe(false);
});

test('a database without a fingerprint adopts the first key that opens it; `migrate` without a key records nothing and makes no file', async () => {
  const store = await createTestStore();
  const dataDir = store.databaseUrl ? fs.mkdtempSync(path.join(store.dataDir, 'm-')) : store.dataDir;
  const migrated = await openStore(cfg(store, undefined, dataDir), 'if-present');
  expect(migrated.keys).toBeNull();
  await migrated.db.close();
  expect(fs.existsSync(path.join(dataDir, 'master.key'))).toBe(false);
  expect(await storedFingerprint(store)).toBeUndefined();

  // No key configured: the embedded default generates its key file, and the database adopts it.
  const opened = await openStore(cfg(store, undefined, dataDir), 'require');
  await opened.db.close();
  const file = readMasterKey(undefined, dataDir);
  expect(file?.source).toMatchObject({ kind: 'file' });
  expect(await storedFingerprint(store)).toBe(file!.keys.fingerprint);
  expect(opened.keys.fingerprint).toBe(file!.keys.fingerprint);
});

test('a database from before fingerprints, holding data: refused without a key (no new key file); adopts the first key given', async () => {
  const store = await createTestStore();
  const dataDir = store.databaseUrl ? fs.mkdtempSync(path.join(store.dataDir, 'old-')) : store.dataDir;
  const { db } = await openStore(cfg(store, undefined, dataDir), 'if-present');
  await db.knex('organizations').insert({ id: '01900000-0000-7000-8000-000000000001', name: 'from-before', created_at: new Date() });
  await db.close();
  const missing = openStore(cfg(store, undefined, dataDir), 'require');
  await expect(missing).rejects.toBeInstanceOf(MasterKeyMissingError);
  await expect(missing).rejects.toThrow(/already holds keys sealed with a master key that this process does not have/);
  expect(fs.existsSync(path.join(dataDir, 'master.key'))).toBe(false);

  const k = newKey();
  await (await openStore(cfg(store, k, dataDir), 'require')).db.close();
  expect(await storedFingerprint(store)).toBe(readMasterKey(k, dataDir)!.keys.fingerprint);
});

test('two processes racing on an empty PostgreSQL database with different keys: exactly one wins, the loser removes the key file it made', async () => {
  const store = await createTestStore();
  if (!store.databaseUrl) return; // the embedded store admits one process at a time (its directory lock)
  const dirs = [0, 1, 2, 3].map((i) => fs.mkdtempSync(path.join(store.dataDir, `race-${i}-`)));
  const results = await Promise.allSettled(dirs.map((d) => openStore(cfg(store, undefined, d), 'require')));
  const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  expect(won).toHaveLength(1);
  // A loser refuses: with a mismatch if it recorded nothing in time, or because the database has a key it lacks.
  for (const r of results) if (r.status === 'rejected') expect([MasterKeyMismatchError, MasterKeyMissingError].some((c) => r.reason instanceof c)).toBe(true);
  await won[0]!.db.close();
  expect(dirs.filter((d) => fs.existsSync(path.join(d, 'master.key')))).toHaveLength(1);
  expect(await storedFingerprint(store)).toBe(won[0]!.keys.fingerprint);
});

test('a process that cannot reach PostgreSQL fails fast with the cause and the fix, without the password', async () => {
  const store = await createTestStore();
  if (!store.databaseUrl) return;
  const url = new URL(store.databaseUrl);
  url.password = 'secret-password-xyz';
  url.port = '1'; // nothing listens there
  const err = await openStore({ databaseUrl: url.toString(), dataDir: store.dataDir, masterKey: newKey() }, 'require').catch((e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toMatch(/Cannot open the PostgreSQL database .*DATABASE_URL.*Check that PostgreSQL is running/s);
  expect((err as Error).message).not.toContain('secret-password-xyz');
});
