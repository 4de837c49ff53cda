/**
 * CERTUSORDO_LISTEN_DATABASE_URL gives the invalidation listener a connection of its own (a
 * transaction-mode pooler in DATABASE_URL would lose its LISTEN): the listener connects with it,
 * and a listener URL that does not work fails the start loudly instead of leaving caches unwatched.
 */
import { randomBytes } from 'node:crypto';
import { startTestServer, TestServer } from '../support/server';
import { createTestStore, testBackend } from '../support/databases';

const postgresOnly = testBackend() === 'postgres' ? describe : describe.skip;

postgresOnly('a separate listener connection', () => {
  let s: TestServer | undefined;
  afterEach(async () => s?.close());

  test('the listener connects with CERTUSORDO_LISTEN_DATABASE_URL, everything else with DATABASE_URL', async () => {
    const store = await createTestStore('postgres');
    const role = `listener_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const admin = new URL(store.databaseUrl!);
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: admin.toString() });
    await c.connect();
    await c.query(`create role ${role} login password '${password}'`);
    await c.end();
    const listenUrl = new URL(admin.toString());
    listenUrl.username = role;
    listenUrl.password = password;

    s = await startTestServer({ store, env: { CERTUSORDO_LISTEN_DATABASE_URL: listenUrl.toString() } });
    const rows = (
      await s.running.db.knex.raw(`select usename from pg_stat_activity where application_name = 'certusordo-auth-listener' and datname = current_database()`)
    ).rows as Array<{ usename: string }>;
    expect(rows.map((r) => r.usename)).toEqual([role]);
    const agents = await fetch(`${s.url}/v1/agents`, { headers: { authorization: `Bearer ${s.apiKey}` } });
    expect(agents.status).toBe(200);
  });

  test('a listener URL that cannot connect fails the start', async () => {
    const store = await createTestStore('postgres');
    const broken = new URL(store.databaseUrl!);
    broken.port = '1';
    await expect(startTestServer({ store, env: { CERTUSORDO_LISTEN_DATABASE_URL: broken.toString() } })).rejects.toThrow();
  });
});

if (testBackend() !== 'postgres') test.skip('a separate listener connection: PostgreSQL only (PGlite has no LISTEN)', () => undefined);
