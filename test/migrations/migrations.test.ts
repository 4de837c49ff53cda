/**
 * Every migration goes up and down cleanly on PostgreSQL, with data in place, and `down` leaves
 * no trace. Run on an empty database (not the run's pre-migrated template).
 */
import type { Knex } from 'knex';
import { emptyDatabase } from '../support/empty-database';
import { MIGRATIONS, migrateDown, migrateLatest, migrateTo } from '../../api/src/db/migrate';

const database = emptyDatabase('mig');

const tables = async (db: Knex) =>
  (await db.raw(`select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_%' order by 1`)).rows.map((r: { tablename: string }) => r.tablename);

test('all migrations apply, then roll back one by one to an empty schema, then apply again', async () => {
  const db = database();
  const applied = await migrateLatest(db);
  expect(applied).toEqual(MIGRATIONS.map(([n]) => n));
  expect(await tables(db)).toEqual(expect.arrayContaining(['agents', 'agent_keys', 'api_keys', 'audit_events', 'organizations']));
  for (let i = 0; i < MIGRATIONS.length; i++) await migrateDown(db);
  expect(await tables(db)).toEqual([]);
  expect((await db.raw(`select count(*)::int as n from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'`)).rows[0].n).toBe(0);
  expect(await migrateLatest(db)).toHaveLength(MIGRATIONS.length);
});

test('each later migration keeps the data written under the one before it', async () => {
  const db = database();
  for (let i = 0; i < MIGRATIONS.length; i++) await migrateDown(db);
  const [first] = MIGRATIONS[0]!;
  await migrateTo(db, first);
  const now = new Date();
  const org = '0190a000-0000-7000-8000-000000000001';
  const agent = '0190a000-0000-7000-8000-000000000002';
  await db('organizations').insert({ id: org, name: 'o', created_at: now });
  await db('agents').insert({ id: agent, organization_id: org, name: 'a', scopes: '["x:read"]', metadata: '{"k":"v"}', status: 'suspended', created_at: now, updated_at: now, status_changed_at: now });
  await migrateLatest(db);
  const row = await db('agents').where({ id: agent }).first();
  expect(row).toMatchObject({ name: 'a', scopes: ['x:read'], metadata: { k: 'v' }, status: 'suspended' });
});

test('federated credentials: the table takes an agent\'s credentials with their checks, and down removes it', async () => {
  const db = database();
  for (let i = 0; i < MIGRATIONS.length; i++) await migrateDown(db);
  await migrateTo(db, '20261202000100_list_indexes');
  const now = new Date();
  const org = '0190a000-0000-7000-8000-000000000021';
  const agent = '0190a000-0000-7000-8000-000000000022';
  await db('organizations').insert({ id: org, name: 'o3', created_at: now });
  await db('agents').insert({ id: agent, organization_id: org, name: 'a', scopes: '[]', metadata: '{}', status: 'active', created_at: now, updated_at: now, status_changed_at: now });
  await migrateTo(db, '20261204002200_federated_credentials');
  const row = { agent_id: agent, organization_id: org, issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:o/r:ref:refs/heads/main', audience: 'https://cp.example/orgs/x', seal: Buffer.alloc(32), created_at: now };
  await db('agent_federated_credentials').insert({ ...row, id: '0190a000-0000-7000-8000-000000000023', claims: JSON.stringify({ repository_owner: 'o' }) });
  // http issuers, non-object claims and a jwks without keys are refused by the named constraints.
  await expect(db('agent_federated_credentials').insert({ ...row, id: '0190a000-0000-7000-8000-000000000024', issuer: 'http://x' })).rejects.toThrow(/agent_federated_credentials_issuer_chk/);
  await expect(db('agent_federated_credentials').insert({ ...row, id: '0190a000-0000-7000-8000-000000000025', claims: '[]' })).rejects.toThrow(/agent_federated_credentials_claims_chk/);
  await expect(db('agent_federated_credentials').insert({ ...row, id: '0190a000-0000-7000-8000-000000000026', jwks: '{}' })).rejects.toThrow(/agent_federated_credentials_jwks_chk/);
  expect((await db('agent_federated_credentials').first()).claims).toEqual({ repository_owner: 'o' });
  // The agent's deletion takes its credentials with it.
  await db('agents').where({ id: agent }).delete();
  expect(await db('agent_federated_credentials').count({ n: '*' })).toEqual([{ n: '0' }]);
  await migrateDown(db);
  expect(await tables(db)).not.toContain('agent_federated_credentials');
  expect((await db.raw(`select count(*)::int as n from pg_proc where proname = 'auth_notify_federated_credentials'`)).rows[0].n).toBe(0);
  await migrateLatest(db);
});

test('first_auth_at is backfilled from last_auth_at, indexed only where null, and dropped by down', async () => {
  const db = database();
  const before = MIGRATIONS.findIndex(([n]) => n === '20261202000100_list_indexes');
  for (let i = MIGRATIONS.length - 1; i > before; i--) await migrateDown(db);
  const now = new Date('2026-12-01T10:00:00.000Z');
  const org = '0190a000-0000-7000-8000-000000000011';
  const [seen, never] = ['0190a000-0000-7000-8000-000000000012', '0190a000-0000-7000-8000-000000000013'];
  await db('organizations').insert({ id: org, name: 'o2', created_at: now });
  for (const [id, last] of [[seen, now], [never, null]] as const) {
    await db('agents').insert({ id, organization_id: org, name: id, scopes: '[]', metadata: '{}', status: 'active', created_at: now, updated_at: now, status_changed_at: now, last_auth_at: last });
  }
  await migrateTo(db, '20261204000000_first_auth_marker');
  const rows = await db('agents').whereIn('id', [seen, never]).orderBy('id').select('id', 'first_auth_at');
  expect(rows).toEqual([{ id: seen, first_auth_at: now }, { id: never, first_auth_at: null }]);
  const idx = await db.raw(`select indexdef from pg_indexes where indexname = 'agents_never_authenticated_idx'`);
  expect(idx.rows[0].indexdef).toMatch(/WHERE \(first_auth_at IS NULL\)/);
  await migrateDown(db);
  const cols = await db.raw(`select column_name from information_schema.columns where table_name = 'agents' and column_name = 'first_auth_at'`);
  expect(cols.rows).toEqual([]);
  await migrateLatest(db);
});

test('the introspector role: accepted after its migration; going down refuses while such keys exist, then restores the old check', async () => {
  const db = database();
  const at = MIGRATIONS.findIndex(([n]) => n === '20261204000100_introspector_role');
  await migrateLatest(db);
  for (let i = MIGRATIONS.length - 1; i > at; i--) await migrateDown(db);
  const org = '0190a000-0000-7000-8000-0000000000a1';
  const key = (id: string, role: string, prefix: string) =>
    db('api_keys').insert({ id, organization_id: org, name: 'k', role, prefix, key_hash: Buffer.alloc(32), created_at: new Date() });
  await db('organizations').insert({ id: org, name: 'o', created_at: new Date() });
  await key('0190a000-0000-7000-8000-0000000000a2', 'introspector', 'aa_intro001');
  await expect(key('0190a000-0000-7000-8000-0000000000a3', 'auditor', 'aa_intro002')).rejects.toThrow(/api_keys_role_chk/);
  await expect(migrateDown(db)).rejects.toThrow(/introspector role/);
  expect((await db('api_keys').where({ role: 'introspector' })).length).toBe(1);
  await db('api_keys').where({ role: 'introspector' }).delete();
  await migrateDown(db);
  await expect(key('0190a000-0000-7000-8000-0000000000a4', 'introspector', 'aa_intro003')).rejects.toThrow(/api_keys_role_chk/);
  await db('organizations').where({ id: org }).delete();
  await migrateLatest(db);
});

test('agent_delegations: one row per pair, never an agent for itself, gone with its agents, notifies the auth channel', async () => {
  const db = database();
  await migrateLatest(db);
  const now = new Date();
  const org = '0190a000-0000-7000-8000-0000000000b1';
  const [a, b] = ['0190a000-0000-7000-8000-0000000000b2', '0190a000-0000-7000-8000-0000000000b3'];
  await db('organizations').insert({ id: org, name: 'delegations', created_at: now });
  for (const id of [a, b]) await db('agents').insert({ id, organization_id: org, name: id, scopes: '[]', metadata: '{}', status: 'active', created_at: now, updated_at: now, status_changed_at: now });
  const row = { subject_agent_id: a, actor_agent_id: b, organization_id: org, created_at: now };
  await db('agent_delegations').insert(row);
  await expect(db('agent_delegations').insert(row)).rejects.toThrow(/agent_delegations_pk/);
  await expect(db('agent_delegations').insert({ ...row, actor_agent_id: a })).rejects.toThrow(/agent_delegations_not_self_chk/);
  await expect(db('agent_delegations').insert({ ...row, actor_agent_id: '0190a000-0000-7000-8000-0000000000ff' })).rejects.toThrow(/agent_delegations_actor_fk/);

  const listener = await db.client.acquireConnection();
  try {
    const heard = new Promise<string>((resolve) => listener.once('notification', (m: { payload: string }) => resolve(m.payload)));
    await listener.query('listen certusordo_auth');
    await db('agent_delegations').where({ subject_agent_id: a }).delete();
    expect(await heard).toBe(`delegation:${a}:${b}`);
  } finally {
    await listener.query('unlisten *');
    await db.client.releaseConnection(listener);
  }
  await db('agent_delegations').insert(row);
  await db('organizations').where({ id: org }).delete();
  expect(await db('agent_delegations').where({ subject_agent_id: a })).toEqual([]);
});
