/**
 * Migration 20261204000310_agent_key_seals on PostgreSQL with keys in place: it refuses to run
 * without the master key, seals every existing key as it stands (bound to its agent's
 * organization), and `down` drops the seals and leaves the keys as they were.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { agentKeySealMatches } from '../../api/src/crypto/agent-key-seal';
import { generateEd25519, jwkThumbprint } from '../../api/src/crypto/ed25519';
import { readMasterKey } from '../../api/src/crypto/master-key';
import { emptyDatabase } from '../support/empty-database';
import { migrateDown, migrateTo } from '../../api/src/db/migrate';

const BEFORE = '20261204000300_api_key_binding';
const SEALS = '20261204000310_agent_key_seals';
const database = emptyDatabase('mig_seal');

test('seals existing agent keys with the master key, refuses without it, and goes down cleanly', async () => {
  const db = database();
  const keys = readMasterKey(randomBytes(32).toString('base64url'), os.tmpdir())!.keys;
  await migrateTo(db, BEFORE, { keys });
  const now = new Date();
  const org = '0190a000-0000-7000-8000-0000000000c1';
  const agent = '0190a000-0000-7000-8000-0000000000c2';
  await db('organizations').insert({ id: org, name: 'o', created_at: now });
  await db('agents').insert({ id: agent, organization_id: org, name: 'a', scopes: '[]', metadata: '{}', status: 'active', created_at: now, updated_at: now, status_changed_at: now });
  const { publicKey } = generateEd25519();
  const kid = jwkThumbprint(publicKey);
  await db('agent_keys').insert({ agent_id: agent, kid, public_key: publicKey, created_at: now, revoked_at: null });

  await expect(migrateTo(db, SEALS)).rejects.toThrow(/seals the 1 existing agent key\(s\) with the master key, and this process has none/);
  expect(await db.schema.hasColumn('agent_keys', 'seal')).toBe(false);

  await migrateTo(db, SEALS, { keys });
  const row = await db('agent_keys').where({ agent_id: agent }).first();
  const sealed = { organization_id: org, agent_id: agent, kid, public_key: Buffer.from(row.public_key) };
  expect(agentKeySealMatches(keys.agentKeySeal, sealed, Buffer.from(row.seal))).toBe(true);
  expect(agentKeySealMatches(keys.agentKeySeal, { ...sealed, organization_id: '0190a000-0000-7000-8000-0000000000c9' }, Buffer.from(row.seal))).toBe(false);
  await expect(db('agent_keys').insert({ agent_id: agent, kid: 'other', public_key: publicKey, created_at: now, revoked_at: null })).rejects.toThrow(/seal/);

  await migrateDown(db);
  expect(await db.schema.hasColumn('agent_keys', 'seal')).toBe(false);
  expect(Buffer.from((await db('agent_keys').where({ agent_id: agent }).first()).public_key)).toEqual(publicKey);
});
