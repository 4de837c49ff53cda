/**
 * Every migration goes up and down cleanly on PostgreSQL, with data in place, and `down` leaves
 * no trace. Run on an empty database (not the run's pre-migrated template).
 */
import knexFactory, { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { MIGRATIONS, migrateDown, migrateLatest, migrateTo } from '../../api/src/db/migrate';

let admin: Knex;
let db: Knex;
let name: string;

beforeAll(async () => {
  const adminUrl = process.env.CERTUSORDO_TEST_PG_ADMIN_URL!;
  admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  name = `mig_${randomBytes(5).toString('hex')}`;
  await admin.raw(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  db = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 2 } });
});

afterAll(async () => {
  await db?.destroy();
  await admin?.raw(`drop database if exists ${name}`);
  await admin?.destroy();
});

const tables = async () =>
  (await db.raw(`select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_%' order by 1`)).rows.map((r: { tablename: string }) => r.tablename);

test('all migrations apply, then roll back one by one to an empty schema, then apply again', async () => {
  const applied = await migrateLatest(db);
  expect(applied).toEqual(MIGRATIONS.map(([n]) => n));
  expect(await tables()).toEqual(expect.arrayContaining(['agents', 'agent_keys', 'api_keys', 'audit_events', 'organizations']));
  for (let i = 0; i < MIGRATIONS.length; i++) await migrateDown(db);
  expect(await tables()).toEqual([]);
  expect((await db.raw(`select count(*)::int as n from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'`)).rows[0].n).toBe(0);
  expect(await migrateLatest(db)).toHaveLength(MIGRATIONS.length);
});

test('each later migration keeps the data written under the one before it', async () => {
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

test('first_auth_at is backfilled from last_auth_at, indexed only where null, and dropped by down', async () => {
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

test('agent_delegations: one row per pair, never an agent for itself, gone with its agents, notifies the auth channel', async () => {
  await migrateLatest(db);
  const now = new Date();
  const org = '0190a000-0000-7000-8000-0000000000a1';
  const [a, b] = ['0190a000-0000-7000-8000-0000000000a2', '0190a000-0000-7000-8000-0000000000a3'];
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
