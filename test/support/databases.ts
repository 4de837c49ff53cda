/** Fresh, migrated databases for one test: a clone of the run's template on either backend. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import knexFactory from 'knex';
import type { Backend } from '../../api/src/db/connect';

export interface TestStore {
  readonly backend: Backend;
  /** Set on PostgreSQL. */
  readonly databaseUrl: string | undefined;
  /** The data directory (PGlite store; also where the master key file would go). */
  readonly dataDir: string;
}

export function testBackend(): Backend {
  const b = process.env.CERTUSORDO_TEST_BACKEND ?? 'postgres';
  if (b !== 'postgres' && b !== 'pglite') throw new Error(`CERTUSORDO_TEST_BACKEND must be postgres or pglite, not ${b}`);
  return b;
}

function root(): string {
  const r = process.env.CERTUSORDO_TEST_ROOT;
  if (!r) throw new Error('test/support/global-setup.ts did not run (use jest from the repository root)');
  return r;
}

export async function createTestStore(backend: Backend = testBackend()): Promise<TestStore> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const dataDir = path.join(root(), name);
  if (backend === 'pglite') {
    fs.cpSync(process.env.CERTUSORDO_TEST_PGLITE_TEMPLATE!, dataDir, { recursive: true });
    return { backend, databaseUrl: undefined, dataDir };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const adminUrl = process.env.CERTUSORDO_TEST_PG_ADMIN_URL!;
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`create database ${name} template certusordo_template`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { backend, databaseUrl: url.toString(), dataDir };
}
