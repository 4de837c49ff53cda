/**
 * Runs the control plane: open the store (bounded connect, master-key check, migrate), listen,
 * bootstrap, and shut down gracefully on SIGTERM/SIGINT. The parts of the control plane are
 * built by the composition root (compose.ts), once the listen address (the default public URL) is
 * known; the metrics registry is built here and handed to it.
 *
 * Shutdown (`shutdown()`, on a signal) is built for rolling restarts behind a load balancer:
 * 1. drain: /readyz answers 503 (the balancer stops routing here) while requests are still
 *    served, each response closing its connection (CERTUSORDO_SHUTDOWN_DRAIN_MS);
 * 2. the listener closes, idle connections are closed, in-flight requests are answered;
 * 3. connections still busy after CERTUSORDO_SHUTDOWN_TIMEOUT_MS are cut; then the background
 *    work and the database close. The process exits within drain + timeout + a few seconds.
 * A start that fails closes everything it opened and throws a FatalStartError naming the cause
 * and the fix.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Config } from './config';
import { createLogger, Logger } from './logger';
import type { Database } from './db/connect';
import { openStore } from './db/open-store';
import { FatalStartError } from './fatal';
import type { Services } from './services';
import { purgeExpiredIdempotencyKeys } from './services/idempotency';
import { bootstrapIfEmpty, BootstrapResult } from './bootstrap';
import { AuthServices, composeControlPlane, ControlPlane } from './compose';
import type { RequestLimiter } from './middleware/rate-limit';
import { Metrics, PoolStats } from './metrics/metrics';
import { startMetricsServer } from './metrics/http';
import type { InvalidationBus } from './tokens/invalidation';
import type { FederationOptions } from './federation/options';

export interface RunningServer {
  readonly url: string;
  /** GET /metrics, when metrics are on (on the main port, or on CERTUSORDO_METRICS_PORT). */
  readonly metricsUrl: string | undefined;
  readonly db: Database;
  readonly services: Services;
  /** The auth module's services (token issuance and validation, sessions, signing keys). */
  readonly auth: AuthServices;
  readonly bootstrap: BootstrapResult | null;
  readonly metrics: Metrics;
  /** The process's one per-caller request limiter. */
  readonly limiter: RequestLimiter;
  /**
   * The auth caches' invalidation bus. Exposed so tests and diagnostics can wait for "this
   * process has heard of that change" (subscribe: caches have applied an event before later
   * listeners see it) rather than poll; nothing outside the auth module should publish on it.
   */
  readonly invalidations: InvalidationBus;
  /**
   * Resolves when the authentication audit events of requests answered so far are written: the
   * token endpoint writes them after its response, so a test waits on this, not on the clock.
   */
  settleAuthAudit(): Promise<void>;
  /** True from the start of a shutdown (/readyz answers 503). */
  readonly draining: boolean;
  /** CERTUSORDO_SHUTDOWN_DRAIN_MS. */
  readonly shutdownDrainMs: number;
  /** The longest a signalled shutdown may take before the process exits anyway (drain + timeout + 5 s). */
  readonly shutdownBoundMs: number;
  /** Graceful stop for a process behind a load balancer: drain, then close (see the file comment). */
  shutdown(opts?: ShutdownOptions): Promise<void>;
  /** Stops at once (no drain): in-flight requests are still answered. */
  close(): Promise<void>;
}

export interface ShutdownOptions {
  /** Overrides CERTUSORDO_SHUTDOWN_DRAIN_MS. */
  drainMs?: number;
  /** Waits out the drain; tests inject one that resolves on their own event. */
  sleep?: (ms: number) => Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Skip creating the first organization (tests create their own). */
  skipBootstrap?: boolean;
  /** The clock of the token endpoint's failure budgets (tests freeze it; default Date.now). */
  clock?: () => number;
  /** The clock the invalidation link's heartbeats are timed with (tests move it forward; default Date.now). */
  invalidationClock?: () => number;
  /** Issuer-key fetching for federated credentials: trusted CAs and clock (tests run their own issuer). */
  federation?: FederationOptions;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** knex's tarn pool and its size (knex does not type `client.pool`). */
function poolOf(db: Database): { pool: PoolStats; max: number } | null {
  const client = db.knex.client as { pool?: PoolStats; config?: { pool?: { max?: number } } };
  return client.pool ? { pool: client.pool, max: client.config?.pool?.max ?? 0 } : null;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const { db, keys, applied } = await openStore(config, 'require').catch((err: unknown) => {
    throw explainStartError(err);
  });
  const server = http.createServer();
  let plane: ControlPlane | undefined;
  let metricsServer: { url: string; close(): Promise<void> } | undefined;
  try {
    if (applied.length) logger.info({ migrations: applied }, 'applied migrations');
    const metrics = new Metrics();
    if (config.metrics) {
      metrics.enableProcessMetrics();
      const p = poolOf(db);
      if (p) metrics.watchPool(p.pool, p.max);
    }
    const lifecycle = { draining: false };

    await listen(server, config);
    const { port } = server.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    plane = await composeControlPlane({ config: { ...config, publicUrl: config.publicUrl ?? url }, db, keys, logger, metrics, lifecycle, clock: opts.clock, invalidationClock: opts.invalidationClock, federation: opts.federation });
    const { services, limiter } = plane;
    if (config.metricsPort !== undefined) {
      metricsServer = await startMetricsServer(metrics, config.host, config.metricsPort).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EADDRINUSE'
          ? new FatalStartError(`Cannot listen on ${config.host}:${config.metricsPort} for metrics: the port is already in use`, 'Choose another CERTUSORDO_METRICS_PORT, or stop the process that uses it')
          : err;
      });
    }
    // Last step that can fail: a first-start key is created only when it will be printed.
    const bootstrap = opts.skipBootstrap ? null : await bootstrapIfEmpty(services);
    server.on('request', plane.listener);
    server.keepAliveTimeout = 5_000;
    const purge = startIdempotencyPurge(db, config.idempotencyTtlSeconds * 1000, logger);

    const started = plane;
    const startedMetrics = metricsServer;
    let closing: Promise<void> | undefined;
    const stop = (drainMs: number, wait: (ms: number) => Promise<void>) =>
      (closing ??= (async () => {
        lifecycle.draining = true;
        if (drainMs > 0) await wait(drainMs);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs).unref();
        });
        await purge.stop();
        await started.close();
        await startedMetrics?.close();
        await db.close();
      })());
    return {
      url,
      metricsUrl: metricsServer?.url ?? (config.metrics ? `${url}/metrics` : undefined),
      db,
      services,
      auth: plane.auth,
      bootstrap,
      metrics,
      limiter,
      invalidations: started.bus,
      settleAuthAudit: () => started.settleAudit(),
      get draining() {
        return lifecycle.draining;
      },
      shutdownDrainMs: config.shutdownDrainMs,
      shutdownBoundMs: config.shutdownDrainMs + config.shutdownTimeoutMs + 5_000,
      shutdown: (o: ShutdownOptions = {}) => stop(o.drainMs ?? config.shutdownDrainMs, o.sleep ?? sleep),
      close: () => stop(0, sleep),
    };
  } catch (err) {
    // No half-started process: whatever was opened is closed before the error is reported.
    if (server.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await plane?.close().catch(() => undefined);
    await metricsServer?.close().catch(() => undefined);
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
  // The fix follows after ". ": a cause that ends its own sentence must not leave a stray period.
  return new FatalStartError(`The server could not start: ${message.replace(/\.+$/, '')}`, 'Fix the cause above and start it again (nothing was left running)');
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

/**
 * Wires signals for a long-running process: drain, close, exit 0. A second signal, or a shutdown
 * that outlives its bound (drain + timeout + 5 s for the database and background work), exits 1.
 */
export function handleSignals(running: RunningServer, logger: Logger): void {
  const stop = (signal: string) => {
    logger.info({ signal, drain_ms: running.shutdownDrainMs }, 'shutting down: draining (/readyz answers 503)');
    const bound = running.shutdownBoundMs;
    setTimeout(() => {
      logger.error({ bound_ms: bound }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, bound).unref();
    process.once('SIGTERM', () => process.exit(1));
    process.once('SIGINT', () => process.exit(1));
    running.shutdown().then(
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
