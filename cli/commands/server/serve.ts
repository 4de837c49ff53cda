/** `certusordo serve` and `certusordo migrate`: run the control plane / apply migrations. */
import type { Command } from 'commander';
import { loadConfig, ConfigOverrides } from '../../../api/src/config';
import { createLogger } from '../../../api/src/logger';
import { handleSignals, startServer } from '../../../api/src/server';
import { openStore } from '../../../api/src/db/open-store';
import { generateMasterKey } from '../../../api/src/crypto/master-key';
import { announceBootstrapKey } from './bootstrap-key';

export interface StoreFlags {
  databaseUrl?: string;
  dataDir?: string;
}

export function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('--database-url <url>', 'PostgreSQL connection string (env DATABASE_URL); omit for the embedded PGlite store')
    .option('--data-dir <dir>', 'embedded store directory (env CERTUSORDO_DATA_DIR, default ./.certusordo)');
}

export function storeOverrides(o: StoreFlags, stderr: NodeJS.WritableStream = process.stderr): ConfigOverrides {
  if (o.databaseUrl !== undefined && hasPassword(o.databaseUrl)) {
    // A process's arguments are readable by every local user (ps, /proc) for as long as it runs.
    stderr.write('warning: the password in --database-url is visible to other users of this machine (ps); set DATABASE_URL or use a PGPASSFILE instead\n');
  }
  return { DATABASE_URL: o.databaseUrl, CERTUSORDO_DATA_DIR: o.dataDir };
}

function hasPassword(url: string): boolean {
  try {
    const u = new URL(url);
    return u.password !== '' || u.searchParams.has('password');
  } catch {
    return /password=/i.test(url);
  }
}

export function register(program: Command): void {
  withStoreOptions(
    program
      .command('serve')
      .description('Run the control plane (embedded PGlite by default, PostgreSQL with DATABASE_URL)')
      .option('-p, --port <port>', 'port to listen on (env PORT, default 8080)')
      .option('-H, --host <host>', 'address to bind (env HOST, default 127.0.0.1)')
      .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env LOG_LEVEL, default info)'),
  ).action(async (o: StoreFlags & { port?: string; host?: string; logLevel?: string }) => {
    const config = loadConfig(process.env, { ...storeOverrides(o), PORT: o.port, HOST: o.host, LOG_LEVEL: o.logLevel });
    const logger = createLogger(config.logLevel);
    const running = await startServer(config, { logger });
    handleSignals(running, logger);
    if (running.bootstrap) announceBootstrapKey(running.bootstrap, config.bootstrapKeyFile, logger);
    logger.info({ url: running.url, database: running.db.backend, data_dir: config.databaseUrl ? undefined : config.dataDir }, 'CertusOrdo control plane listening');
  });

  withStoreOptions(program.command('migrate').description('Apply database migrations and exit')).action(async (o: StoreFlags) => {
    const config = loadConfig(process.env, storeOverrides(o));
    // Checks the master key when this process has one (env or key file); never creates one:
    // migrating seals nothing, and the key is the server's to choose.
    const { db, applied } = await openStore(config, 'if-present');
    try {
      process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Already up to date\n');
    } finally {
      await db.close();
    }
  });

  program
    .command('keygen')
    .description('Print a new master key for CERTUSORDO_MASTER_KEY')
    .action(() => void process.stdout.write(`${generateMasterKey()}\n`));
}
