/**
 * Opens the store: PostgreSQL through knex's `pg` client when a URL is given, else the embedded
 * PGlite (same SQL) through PGlite's node-postgres adapter, so both backends return pg's shapes.
 */
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import pg from 'pg';
import { lockDataDir, DataDirLock } from './lock';

// Return bigint columns (audit seq) as JS numbers; they stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number.parseInt(v, 10));

export type Backend = 'postgres' | 'pglite';

export interface Database {
  readonly knex: Knex;
  readonly backend: Backend;
  /** PostgreSQL connection string, when on PostgreSQL (for LISTEN connections). */
  readonly url: string | undefined;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string;
  dataDir: string;
  poolMax?: number;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const knex = knexFactory({
      client: 'pg',
      connection: opts.databaseUrl,
      pool: { min: 0, max: opts.poolMax ?? 10 },
    });
    await knex.raw('select 1');
    return { knex, backend: 'postgres', url: opts.databaseUrl, close: () => knex.destroy() };
  }
  return openPglite(opts.dataDir);
}

async function openPglite(dataDir: string): Promise<Database> {
  const lock: DataDirLock = lockDataDir(dataDir);
  try {
    // Loaded lazily: PostgreSQL deployments never pay for the WASM build.
    const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
    const { createPgConfig } = require('@electric-sql/pglite/node-postgres') as typeof import('@electric-sql/pglite/dist/node-postgres');
    const pglite = new PGlite(path.join(dataDir, 'pgdata'));
    await pglite.waitReady;
    const pgConfig = createPgConfig(pglite);
    // A function, not an object: knex deep-clones connection objects, which would break the adapter.
    const knex = knexFactory({ client: 'pg', connection: () => pgConfig as never, pool: { min: 1, max: 1 } });
    await knex.raw('select 1');
    return {
      knex,
      backend: 'pglite',
      url: undefined,
      close: async () => {
        await knex.destroy();
        await pglite.close();
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
