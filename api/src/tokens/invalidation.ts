/**
 * Cache invalidation for token state. Every change that can make a token invalid is announced:
 *
 * - in this process, by the service that made it, right after its commit (before it responds);
 * - to every replica, by database triggers that pg_notify on the `certusordo_auth` channel inside
 *   the mutation's transaction (delivered at commit), received here on a dedicated LISTEN
 *   connection (PostgreSQL only; PGlite is single-process, so in-process delivery is complete).
 *
 * Caches may only be trusted while the bus is `healthy`: while the LISTEN connection is down, or
 * has not proven within the last second that it still delivers (PgListenBus heartbeats), a
 * notification could be missed or late, so callers bypass their caches and read the database; on
 * reconnection a `reset` event tells them to drop everything they hold.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { AUTH_CHANNEL } from '../../migrations/20261125100000_auth';
import type { Logger } from '../logger';

export type InvalidationEvent =
  | { kind: 'agent'; id: string }
  /** An agent was created, or its keys, scopes or status changed (the token endpoint's credentials; the scopes AuthState holds). */
  | { kind: 'credentials'; id: string }
  | { kind: 'session'; id: string }
  | { kind: 'token'; jti: string; expiresAtMs: number }
  /** An agent's `may_act` gained or lost this actor. */
  | { kind: 'delegation'; subjectId: string; actorId: string }
  /** An API key was created, revoked, changed role or deleted. */
  | { kind: 'api_key'; id: string }
  /** An organization was created (negative caches forget its id). */
  | { kind: 'organization'; id: string }
  /** An organization's signing keys changed (rotation, first key, expiry); null: any organization's. */
  | { kind: 'signing_keys'; orgId: string | null }
  /** Anything may have changed (listener reconnected): drop all cached state. */
  | { kind: 'reset' }
  /**
   * The link's freshness changed without a reconnection (PostgreSQL): `fresh: false` once no
   * heartbeat has proven it within its bound (caches are bypassed), `fresh: true` once one has
   * again (nothing was lost: notifications arrive in order, before the heartbeat that follows them).
   */
  | { kind: 'link'; fresh: boolean };

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
    case 'organization':
      return { kind: 'organization', id: rest };
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

/** The PostgreSQL bus's timing; every field has a production default. */
export interface PgListenBusOptions {
  /** How often the bus sends itself a heartbeat on the channel (well below `maxLagMs`). */
  heartbeatIntervalMs?: number;
  /**
   * Caches are trusted only while a heartbeat sent at most this long ago has come back: every
   * change committed before that heartbeat was sent has been delivered, so nothing a cache answers
   * is older than this.
   */
  maxLagMs?: number;
  /** No heartbeat back for this long: the connection is treated as lost and replaced. */
  linkTimeoutMs?: number;
  /** The clock heartbeats are timed with (tests move it to stand in for elapsed time). */
  now?: () => number;
}

/** Payload prefix of the bus's own heartbeats; `parseNotification` ignores it (no cache reacts to it). */
const HEARTBEAT = 'heartbeat';

/**
 * PostgreSQL: LISTEN on a dedicated connection, reconnecting with backoff.
 *
 * A connection can stop delivering without failing (a half-open socket after a failover or a NAT
 * timeout): nothing errors, notifications just stop. So the bus proves its link continuously: it
 * sends itself a heartbeat NOTIFY on the same channel over the same connection, and PostgreSQL
 * delivers notifications in commit order, so a heartbeat that comes back proves that every change
 * committed before it was sent has been delivered. `healthy` holds only while such a proof is
 * younger than `maxLagMs` (1 s): a token revoked anywhere is refused here within that bound, from
 * the database if the link is stalled. A stalled link recovers by itself once heartbeats return (in
 * order, after every notification they were queued behind); one silent for `linkTimeoutMs` is
 * dropped and replaced (a `reset` then clears the caches).
 */
/**
 * The link's timing: a heartbeat every 200 ms; caches are trusted only while the newest proof is
 * under 1 s old (the revocation bound under a silent fault); a link silent for 3 s is replaced.
 */
const LINK_TIMING = { heartbeatIntervalMs: 200, maxLagMs: 1_000, linkTimeoutMs: 3_000 } as const;

export class PgListenBus extends BaseBus {
  readonly crossProcess = true;
  private client: pg.Client | null = null;
  private connected = false;
  private closed = false;
  private backoffMs = 50;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private connects = 0;
  private losses = 0;
  private reconnectHolds = 0;
  private reconnectHeld = false;
  /** This bus's heartbeats among every replica's on the shared channel. */
  private readonly heartbeatId = randomUUID();
  private heartbeatSeq = 0;
  /** The heartbeat on its way: its number and when it was sent (by `now`). */
  private inFlight: { seq: number; sentAt: number } | null = null;
  /** When the latest heartbeat that came back was sent: everything committed before it has been delivered. */
  private provenAt = 0;
  /** Whether `healthy` held at the last check (a change is announced with a `link` event). */
  private wasFresh = false;
  private readonly heartbeatIntervalMs: number;
  private readonly maxLagMs: number;
  private readonly linkTimeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly url: string, logger: Logger, options: PgListenBusOptions = {}) {
    super(logger);
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? LINK_TIMING.heartbeatIntervalMs;
    this.maxLagMs = options.maxLagMs ?? LINK_TIMING.maxLagMs;
    this.linkTimeoutMs = options.linkTimeoutMs ?? LINK_TIMING.linkTimeoutMs;
    this.now = options.now ?? Date.now;
  }

  get healthy(): boolean {
    return this.connected && this.now() - this.provenAt < this.maxLagMs;
  }

  /** For metrics: the connection's state, reconnections (after the first connect), losses, and how old the link's latest proof is. */
  get stats(): { connected: boolean; reconnects: number; losses: number; lagMs: number | null } {
    return { connected: this.connected, reconnects: Math.max(0, this.connects - 1), losses: this.losses, lagMs: this.connected ? Math.max(0, this.now() - this.provenAt) : null };
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
    this.heartbeatTimer = setInterval(() => this.beat(), this.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url, keepAlive: true, application_name: 'certusordo-auth-listener', connectionTimeoutMillis: this.linkTimeoutMs,
    });
    client.on('notification', (msg) => {
      if (msg.channel !== AUTH_CHANNEL || !msg.payload) return;
      if (msg.payload.startsWith(`${HEARTBEAT}:`)) return this.heartbeatBack(client, msg.payload);
      const e = parseNotification(msg.payload);
      if (e) this.deliver(e);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    this.client = client;
    let listeningSince = 0;
    try {
      await client.connect();
      // Changes committed before LISTEN took effect are covered by the reset below, later ones are delivered.
      listeningSince = this.now();
      await client.query(`LISTEN ${AUTH_CHANNEL}`);
    } catch (err) {
      this.lost(client, err);
      throw err;
    }
    if (this.client !== client || this.closed) return;
    this.connected = true;
    this.connects++;
    this.backoffMs = 50;
    this.inFlight = null;
    this.provenAt = listeningSince;
    this.wasFresh = this.healthy;
    // Changes committed while we were not listening were missed: callers drop their caches.
    this.deliver({ kind: 'reset' });
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.client !== client) return;
    this.client = null;
    const wasConnected = this.connected;
    this.connected = false;
    this.inFlight = null;
    this.wasFresh = false;
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

  /** One heartbeat tick: announce a change of freshness, give up on a silent link, or send the next heartbeat. */
  private beat(): void {
    const client = this.client;
    this.announceFreshness();
    if (!client || !this.connected) return;
    if (this.inFlight) {
      if (this.now() - this.inFlight.sentAt >= this.linkTimeoutMs) this.lost(client, new Error(`no heartbeat back from the listener connection within ${this.linkTimeoutMs} ms`));
      return;
    }
    const seq = ++this.heartbeatSeq;
    this.inFlight = { seq, sentAt: this.now() };
    client.query('select pg_notify($1, $2)', [AUTH_CHANNEL, `${HEARTBEAT}:${this.heartbeatId}:${seq}`]).catch((err: unknown) => this.lost(client, err));
  }

  /** A heartbeat came back on `client`: if it is this bus's latest, the link is proven up to its send time. */
  private heartbeatBack(client: pg.Client, payload: string): void {
    if (this.client !== client || payload !== `${HEARTBEAT}:${this.heartbeatId}:${this.inFlight?.seq}`) return;
    this.provenAt = this.inFlight!.sentAt;
    this.inFlight = null;
    this.announceFreshness();
  }

  /**
   * Tells listeners when `healthy` flips without a reconnection (a stalled link went stale, or
   * caught up again): caches need not react (they check `healthy` on every lookup), but what was
   * refused while stale (the revoked set's readiness) may be retried, and tests wait on it.
   */
  private announceFreshness(): void {
    const fresh = this.healthy;
    if (fresh === this.wasFresh) return;
    this.wasFresh = fresh;
    if (this.connected) this.deliver({ kind: 'link', fresh });
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
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => undefined);
  }
}
