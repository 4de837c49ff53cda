/**
 * Once per jest run: start a disposable PostgreSQL (unless TEST_DATABASE_URL names one) with a
 * migrated template database, and build a migrated PGlite template directory. Test files then
 * clone these (CREATE DATABASE … TEMPLATE, or a directory copy), which is much faster than
 * migrating — or, for PGlite, running initdb — per test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { openDatabase } from '../../api/src/db/connect';
import { migrateLatest } from '../../api/src/db/migrate';
import { startPostgres } from '../../bench/support/postgres';

export const TEMPLATE_DB = 'certusordo_template';

export default async function globalSetup(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-test-'));
  process.env.CERTUSORDO_TEST_ROOT = root;

  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const pg = await startPostgres();
    adminUrl = pg.url('postgres');
    (globalThis as { __certusordoPg?: { stop(): void } }).__certusordoPg = pg;
  }
  process.env.CERTUSORDO_TEST_PG_ADMIN_URL = adminUrl;
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`drop database if exists ${TEMPLATE_DB}`);
  await admin.raw(`create database ${TEMPLATE_DB}`);
  await admin.destroy();
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DB}`;
  const pgTemplate = await openDatabase({ databaseUrl: templateUrl.toString(), dataDir: root, poolMax: 1 });
  await migrateLatest(pgTemplate.knex);
  await pgTemplate.close();

  const pgliteTemplate = path.join(root, 'pglite-template');
  const lite = await openDatabase({ dataDir: pgliteTemplate });
  await migrateLatest(lite.knex);
  await lite.close();
  process.env.CERTUSORDO_TEST_PGLITE_TEMPLATE = pgliteTemplate;
}
