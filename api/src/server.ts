/**
 * Runs the control plane: open the store, migrate, bootstrap, listen, and shut down gracefully on
 * SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the database).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Config } from './config';
import { createLogger, Logger } from './logger';
import { openDatabase, Database } from './db/connect';
import { migrateLatest } from './db/migrate';
import { loadMasterKey } from './crypto/master-key';
import { createServices, Services } from './services';
import { purgeExpiredIdempotencyKeys } from './services/idempotency';
import { createApp } from './app';
import { bootstrapIfEmpty, BootstrapResult } from './bootstrap';
import { createAuthModule } from './auth-module';

export interface RunningServer {
  readonly url: string;
  readonly db: Database;
  readonly services: Services;
  readonly bootstrap: BootstrapResult | null;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Skip creating the first organization (tests create their own). */
  skipBootstrap?: boolean;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await migrateLatest(db.knex);
    if (applied.length) logger.info({ migrations: applied }, 'applied migrations');
    const keys = loadMasterKey(config.masterKey, config.dataDir);
    const services = createServices(db.knex, keys, { idempotencyTtlSeconds: config.idempotencyTtlSeconds });
    const bootstrap = opts.skipBootstrap ? null : await bootstrapIfEmpty(db.knex, services);

    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    const auth = await createAuthModule({ config: { ...config, publicUrl: config.publicUrl ?? url }, db, logger, services, keys });
    const app = createApp({ config, db, logger, services, extraRouters: auth.routers, apiKeys: auth.apiKeys });
    server.on('request', app);
    server.keepAliveTimeout = 5_000;
    const purge = startIdempotencyPurge(db, config.idempotencyTtlSeconds * 1000, logger);

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 10_000).unref();
        });
        await purge.stop();
        await auth.close();
        await db.close();
      })());
    return { url, db, services, bootstrap, close };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Deletes expired Idempotency-Key records every few minutes (claims already ignore them; this
 * keeps the table small). Replicas may purge concurrently: the delete is idempotent.
 */
function startIdempotencyPurge(db: Database, ttlMs: number, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= purgeExpiredIdempotencyKeys(db.knex, ttlMs)
      .then((n) => void (n > 0 && logger.debug({ deleted: n }, 'purged expired idempotency keys')))
      .catch((err) => logger.error({ err }, 'idempotency purge failed'))
      .finally(() => (running = null));
  }, Math.min(5 * 60_000, ttlMs / 4));
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/** Wires signals for a long-running process. */
export function handleSignals(running: RunningServer, logger: Logger): void {
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
