/**
 * A fresh, empty PostgreSQL database for one suite (not the run's pre-migrated template): for
 * migration suites that apply migrations one by one over data of their own. Registers its own
 * beforeAll/afterAll; the returned function gives the connection once the suite runs.
 */
import { randomBytes } from 'node:crypto';
import knexFactory, { Knex } from 'knex';

export function emptyDatabase(prefix: string): () => Knex {
  let admin: Knex | undefined;
  let db: Knex | undefined;
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  beforeAll(async () => {
    const adminUrl = process.env.CERTUSORDO_TEST_PG_ADMIN_URL!;
    admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
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
  return () => {
    if (!db) throw new Error('the empty database exists only while the suite runs');
    return db;
  };
}
