/**
 * Opens the store: PostgreSQL through knex's `pg` client when a URL is given, else the embedded
 * PGlite (same SQL) through PGlite's node-postgres adapter, so both backends return pg's shapes.
 */
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import pg from 'pg';
import { lockDataDir, DataDirLock } from './lock';
import { FatalStartError } from '../fatal';

/**
 * How long opening the store waits for PostgreSQL: a process that cannot reach its database
 * must fail fast with a clear message instead of hanging in a crash loop's start.
 */
export const CONNECT_TIMEOUT_MS = 3_000;

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
  /** Bound on the first connection (default CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
}

/** The URL without credentials, for messages. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the database named by DATABASE_URL';
  }
}

/** One connection, bounded in time, before the pool exists: the start fails fast and says why. */
async function probePostgres(url: string, timeoutMs: number): Promise<void> {
  const where = describeDatabaseUrl(url);
  const fail = (reason: string) =>
    new FatalStartError(
      `Cannot open the PostgreSQL database ${where} (DATABASE_URL): ${reason}`,
      'Check that PostgreSQL is running and reachable from this host, and that DATABASE_URL names the right host, port, database and credentials',
    );
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  } catch (err) {
    throw fail(`the connection string is invalid (${(err as Error).message})`);
  }
  // pg's own timeout covers connecting; this one also covers a server that accepts and never answers.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(fail(`no answer within ${timeoutMs / 1000} s`)), timeoutMs + 500);
  });
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.query('select 1');
      })(),
      timeout,
    ]);
  } catch (err) {
    if (err instanceof FatalStartError) throw err;
    const e = err as Error & { code?: string };
    throw fail(/timeout/i.test(e.message) ? `no answer within ${timeoutMs / 1000} s` : e.code && !e.message.includes(e.code) ? `${e.message} (${e.code})` : e.message);
  } finally {
    clearTimeout(timer);
    void client.end().catch(() => undefined);
  }
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) {
    await probePostgres(opts.databaseUrl, opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    const knex = knexFactory({
      client: 'pg',
      connection: opts.databaseUrl,
      pool: { min: 0, max: opts.poolMax ?? 10 },
    });
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
