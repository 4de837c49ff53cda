/**
 * Runs the control plane: open the store (bounded connect, master-key check, migrate), listen,
 * bootstrap, and shut down gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight
 * requests, close the database). A start that fails closes everything it opened and throws a
 * FatalStartError naming the cause and the fix.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Config } from './config';
import { createLogger, Logger } from './logger';
import type { Database } from './db/connect';
import { openStore } from './db/open-store';
import { FatalStartError } from './fatal';
import { createServices, Services } from './services';
import { purgeExpiredIdempotencyKeys } from './services/idempotency';
import { createApp } from './app';
import { bootstrapIfEmpty, BootstrapResult } from './bootstrap';
import { AuthModule, createAuthModule } from './auth-module';

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
  const { db, keys, applied } = await openStore(config, 'require').catch((err: unknown) => {
    throw explainStartError(err);
  });
  const server = http.createServer();
  let auth: AuthModule | undefined;
  try {
    if (applied.length) logger.info({ migrations: applied }, 'applied migrations');
    const services = createServices(db.knex, keys, { idempotencyTtlSeconds: config.idempotencyTtlSeconds });

    await listen(server, config);
    const { port } = server.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    auth = await createAuthModule({ config: { ...config, publicUrl: config.publicUrl ?? url }, db, logger, services, keys });
    const app = createApp({ config, db, logger, services, extraRouters: auth.routers, apiKeys: auth.apiKeys });
    // Last step that can fail: a first-start key is created only when it will be printed.
    const bootstrap = opts.skipBootstrap ? null : await bootstrapIfEmpty(db.knex, services);
    server.on('request', app);
    server.keepAliveTimeout = 5_000;
    const purge = startIdempotencyPurge(db, config.idempotencyTtlSeconds * 1000, logger);

    const started = auth;
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 10_000).unref();
        });
        await purge.stop();
        await started.close();
        await db.close();
      })());
    return { url, db, services, bootstrap, close };
  } catch (err) {
    // No half-started process: whatever was opened is closed before the error is reported.
    if (server.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await auth?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw explainStartError(err);
  }
}

async function listen(server: http.Server, config: Config): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${config.host}:${config.port}`;
    if (code === 'EADDRINUSE') throw new FatalStartError(`Cannot listen on ${where}: the port is already in use`, 'Stop the process that uses it, or choose another port with --port or PORT');
    if (code === 'EACCES') throw new FatalStartError(`Cannot listen on ${where}: permission denied`, 'Choose a port above 1023 with --port or PORT, or grant the process the right to bind it');
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new FatalStartError(`Cannot listen on ${where}: the address is not one of this host's`, 'Choose an address of this host with --host or HOST (0.0.0.0 for all)');
    throw err;
  }
}

/** A start error in the operator's terms (the cause and the fix), whatever layer raised it. */
function explainStartError(err: unknown): unknown {
  if (err instanceof FatalStartError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // AES-GCM refusing a stored signing key: it was sealed with another master key.
  if (/unable to authenticate data/i.test(message)) {
    return new FatalStartError(
      "The database's keys were sealed with another master key (a stored signing key does not decrypt with this process's key)",
      'Give every replica the same CERTUSORDO_MASTER_KEY: the key the database was first opened with',
    );
  }
  return new FatalStartError(`The server could not start: ${message}`, 'Fix the cause above and start it again (nothing was left running)');
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
