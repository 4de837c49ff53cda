/**
 * Cache invalidation for token state. Every change that can make a token invalid is announced:
 *
 * - in this process, by the service that made it, right after its commit (before it responds);
 * - to every replica, by database triggers that pg_notify on the `certusordo_auth` channel inside
 *   the mutation's transaction (delivered at commit), received here on a dedicated LISTEN
 *   connection (PostgreSQL only; PGlite is single-process, so in-process delivery is complete).
 *
 * Caches may only be trusted while the bus is `healthy`: while the LISTEN connection is down a
 * notification could be missed, so callers bypass their caches and read the database; on
 * reconnection a `reset` event tells them to drop everything they hold.
 */
import pg from 'pg';
import { AUTH_CHANNEL } from '../../migrations/20261125100000_auth';
import type { Logger } from '../logger';

export type InvalidationEvent =
  | { kind: 'agent'; id: string }
  /** An agent's keys, scopes or status changed (token-endpoint credential cache). */
  | { kind: 'credentials'; id: string }
  | { kind: 'session'; id: string }
  | { kind: 'token'; jti: string; expiresAtMs: number }
  /** An agent's `may_act` gained or lost this actor. */
  | { kind: 'delegation'; subjectId: string; actorId: string }
  | { kind: 'api_key'; id: string }
  /** An organization's signing keys changed (rotation, first key, expiry); null: any organization's. */
  | { kind: 'signing_keys'; orgId: string | null }
  /** Anything may have changed (listener reconnected): drop all cached state. */
  | { kind: 'reset' };

export type InvalidationListener = (e: InvalidationEvent) => void;

export interface InvalidationBus {
  /** True while every committed change is guaranteed to be delivered. */
  readonly healthy: boolean;
  /** True when changes made by other processes are delivered (PostgreSQL LISTEN). */
  readonly crossProcess: boolean;
  /**
   * Calls `fn` for every event, after the listeners subscribed before it: a listener added once the
   * caches are wired sees an event only when the caches have applied it, which is what lets tests
   * (and diagnostics) wait for "this replica has heard of the change" instead of polling.
   * Returns a function that removes `fn`.
   */
  subscribe(fn: InvalidationListener): () => void;
  /** Delivers an event in this process (called by services after their commit). */
  publishLocal(e: InvalidationEvent): void;
  close(): Promise<void>;
}

export function parseNotification(payload: string): InvalidationEvent | null {
  const i = payload.indexOf(':');
  if (i < 0) return null;
  const kind = payload.slice(0, i);
  const rest = payload.slice(i + 1);
  switch (kind) {
    case 'agent':
      return { kind: 'agent', id: rest };
    case 'credentials':
      return { kind: 'credentials', id: rest };
    case 'session':
      return { kind: 'session', id: rest };
    case 'api_key':
      return { kind: 'api_key', id: rest };
    case 'signing_keys':
      return { kind: 'signing_keys', orgId: rest === '' ? null : rest };
    case 'delegation': {
      const [subjectId, actorId, extra] = rest.split(':');
      return subjectId && actorId && extra === undefined ? { kind: 'delegation', subjectId, actorId } : null;
    }
    case 'token': {
      const j = rest.indexOf(':');
      const exp = Number(rest.slice(0, j));
      return j > 0 && Number.isFinite(exp) ? { kind: 'token', jti: rest.slice(j + 1), expiresAtMs: exp } : null;
    }
    default:
      return null;
  }
}

abstract class BaseBus implements InvalidationBus {
  private readonly listeners: InvalidationListener[] = [];
  abstract readonly healthy: boolean;
  abstract readonly crossProcess: boolean;

  constructor(protected readonly logger: Logger) {}

  subscribe(fn: InvalidationListener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  publishLocal(e: InvalidationEvent): void {
    this.deliver(e);
  }

  protected deliver(e: InvalidationEvent): void {
    // A copy: a listener may unsubscribe itself while the event is delivered.
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.logger.error({ err, kind: e.kind }, 'invalidation listener failed');
      }
    }
  }

  abstract close(): Promise<void>;
}

/** PGlite: one process owns the store, so in-process delivery sees every change. */
export class InProcessBus extends BaseBus {
  readonly healthy = true;
  readonly crossProcess = false;
  async close(): Promise<void> {}
}

/** PostgreSQL: LISTEN on a dedicated connection, reconnecting with backoff, pinged to detect dead links. */
export class PgListenBus extends BaseBus {
  readonly crossProcess = true;
  private client: pg.Client | null = null;
  private connected = false;
  private closed = false;
  private backoffMs = 50;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private connects = 0;
  private losses = 0;
  private reconnectHolds = 0;
  private reconnectHeld = false;

  constructor(private readonly url: string, logger: Logger, private readonly pingIntervalMs = 5000) {
    super(logger);
  }

  get healthy(): boolean {
    return this.connected;
  }

  /** For metrics: the connection's state, reconnections (after the first connect) and losses. */
  get stats(): { connected: boolean; reconnects: number; losses: number } {
    return { connected: this.connected, reconnects: Math.max(0, this.connects - 1), losses: this.losses };
  }

  /** Resolves once listening (or rejects on the first failure, so a misconfigured start fails loudly). */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      // The failed connect scheduled a retry: a start that fails must leave nothing running.
      await this.close();
      throw err;
    }
    this.pingTimer = setInterval(() => void this.ping(), this.pingIntervalMs);
    this.pingTimer.unref();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, application_name: 'certusordo-auth-listener' });
    client.on('notification', (msg) => {
      if (msg.channel !== AUTH_CHANNEL || !msg.payload) return;
      const e = parseNotification(msg.payload);
      if (e) this.deliver(e);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${AUTH_CHANNEL}`);
    } catch (err) {
      this.lost(client, err);
      throw err;
    }
    if (this.client !== client || this.closed) return;
    this.connected = true;
    this.connects++;
    this.backoffMs = 50;
    // Changes committed while we were not listening were missed: callers drop their caches.
    this.deliver({ kind: 'reset' });
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.client !== client) return;
    this.client = null;
    const wasConnected = this.connected;
    this.connected = false;
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.closed) return;
    if (wasConnected) {
      this.losses++;
      this.logger.warn({ err }, 'auth invalidation listener lost its connection; caches bypassed until it reconnects');
      this.deliver({ kind: 'reset' });
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.closed) return;
    if (this.reconnectHolds > 0) {
      this.reconnectHeld = true;
      return;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 5000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().catch(() => undefined);
    }, delay);
    this.reconnectTimer.unref();
  }

  private async ping(): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) return;
    const timer = setTimeout(() => this.lost(client, new Error('listener ping timed out')), 2000);
    try {
      await client.query('select 1');
    } catch (err) {
      this.lost(client, err);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * For tests: a connection lost after this call stays down (reconnection waits) until the
   * returned function is called. Without it a test cannot know whether the bus is still down when
   * its next request arrives (the first reconnection follows within milliseconds), so the
   * "caches bypassed while down" path could not be checked deterministically.
   */
  holdReconnects(): () => void {
    this.reconnectHolds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.reconnectHolds > 0 || !this.reconnectHeld) return;
      this.reconnectHeld = false;
      this.scheduleReconnect();
    };
  }

  /** For tests: drop the LISTEN connection as if the network failed. */
  simulateConnectionLoss(): void {
    if (this.client) this.lost(this.client, new Error('simulated connection loss'));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connected = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => undefined);
  }
}
