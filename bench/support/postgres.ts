/**
 * A disposable PostgreSQL server from the machine's binaries (initdb/pg_ctl), for tests and
 * benchmarks. As root it runs as the `postgres` user, since initdb refuses to run as root.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface DisposablePostgres {
  url(database: string): string;
  readonly port: number;
  readonly dir: string;
  stop(): void;
}

function asPostgresUser(cmd: string, args: string[]): void {
  const isRoot = process.getuid?.() === 0;
  const [bin, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  execFileSync(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface PostgresOptions {
  /**
   * PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes on), for figures
   * that claim durability; otherwise those are off, since tests and most benchmarks compare code
   * paths, not disks.
   */
  durable?: boolean;
  /** Load pg_stat_statements (for a bench that reports what each statement cost the server). */
  statementStats?: boolean;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<DisposablePostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-pg-'));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  asPostgresUser('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const port = await freePort();
  const fast = options.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
  const stats = options.statementStats ? ' -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on' : '';
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${fast}${stats} -c max_connections=400`;
  asPostgresUser('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', 'start']);
  return {
    port,
    dir,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop: () => {
      try {
        asPostgresUser('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
