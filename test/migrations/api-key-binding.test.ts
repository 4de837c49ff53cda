/**
 * Migration 20261204000300_api_key_binding on PostgreSQL with keys in place: it refuses to run
 * without the master key, binds every existing key as it stands (the key keeps working, a moved
 * row no longer does), and `down` drops the binding and leaves the keys as they were.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { apiKeyMatches, generateApiKey, hashApiKey } from '../../api/src/crypto/api-keys';
import { readMasterKey } from '../../api/src/crypto/master-key';
import { emptyDatabase } from '../support/empty-database';
import { migrateDown, migrateTo } from '../../api/src/db/migrate';

const BEFORE = '20261204000000_first_auth_marker';
const BINDING = '20261204000300_api_key_binding';
const database = emptyDatabase('mig_bind');

test('binds existing keys with the master key, refuses without it, and goes down cleanly', async () => {
  const db = database();
  const keys = readMasterKey(randomBytes(32).toString('base64url'), os.tmpdir())!.keys;
  await migrateTo(db, BEFORE);
  const now = new Date();
  const orgs = ['0190a000-0000-7000-8000-0000000000a1', '0190a000-0000-7000-8000-0000000000a2'];
  for (const id of orgs) await db('organizations').insert({ id, name: id.slice(-2), created_at: now });
  const { key, prefix } = generateApiKey();
  const row = { id: '0190a000-0000-7000-8000-0000000000b1', organization_id: orgs[0], name: 'old', role: 'reader', prefix, key_hash: hashApiKey(keys.apiKeyPepper, key), created_at: now };
  await db('api_keys').insert(row);

  await expect(migrateTo(db, BINDING)).rejects.toThrow(/binds the 1 existing API key\(s\) with the master key, and this process has none/);
  expect(await db.schema.hasColumn('api_keys', 'binding')).toBe(false);

  await migrateTo(db, BINDING, { keys });
  const bound = await db('api_keys').where({ id: row.id }).first();
  expect(Buffer.from(bound.key_hash)).toEqual(row.key_hash);
  expect(apiKeyMatches(keys.apiKeyPepper, key, bound)).toBe(true);
  expect(apiKeyMatches(keys.apiKeyPepper, key, { ...bound, organization_id: orgs[1] })).toBe(false);
  expect(apiKeyMatches(keys.apiKeyPepper, key, { ...bound, role: 'admin' })).toBe(false);
  // Another master key cannot have made this binding.
  expect(apiKeyMatches(readMasterKey(randomBytes(32).toString('base64url'), os.tmpdir())!.keys.apiKeyPepper, key, bound)).toBe(false);
  await expect(db('api_keys').insert({ ...row, id: '0190a000-0000-7000-8000-0000000000b2', prefix: 'aa_zzzzzzzz' })).rejects.toThrow(/binding/);

  await migrateDown(db);
  expect(await db.schema.hasColumn('api_keys', 'binding')).toBe(false);
  expect(Buffer.from((await db('api_keys').where({ id: row.id }).first()).key_hash)).toEqual(row.key_hash);
});
