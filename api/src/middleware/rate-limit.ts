/**
 * Token buckets. `RateLimiter` is the in-process bucket set (exact within one process; also the
 * building block of the OAuth endpoints' own limits). `RequestLimiter` is the per-caller request
 * limit (CERTUSORDO_RATE_LIMIT), constructed ONCE per process and shared by every route, so a
 * caller's budget is one budget whichever routes it calls:
 *
 * - `LocalRequestLimiter` (PGlite: one process owns the store, so local buckets are exact);
 * - `ClusterRequestLimiter` (PostgreSQL, several replicas): an authenticated caller's budget is a
 *   token bucket in the database, refilled by the database's clock; each replica leases small
 *   slices of it and spends them locally, so most requests decide without a database round trip
 *   and the whole cluster never accepts more than the bucket gives out.
 */
import type { Knex } from 'knex';
import { RateLimitedError } from '../errors';
import { deleteIdleBuckets, leaseTokens } from '../db/operations/rate-limits';
import type { LeaseResult, LimitScope } from '../metrics/metrics';

interface Bucket {
  tokens: number;
  updated: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly perSecond: number, private readonly burst: number = perSecond * 2) {}

  /** Takes one token for `key`; throws RateLimitedError when the bucket is empty. */
  take(key: string, now: number = Date.now()): void {
    if (!this.tryTake(key, now)) {
      throw new RateLimitedError('Too many requests; retry later', this.retryAfterSeconds);
    }
  }

  tryTake(key: string, now: number = Date.now()): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size > 100_000) this.sweep(now);
      b = { tokens: this.burst, updated: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.updated) / 1000) * this.perSecond);
    b.updated = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Gives back a token taken by tryTake, for a request that turned out not to count. */
  refund(key: string): void {
    const b = this.buckets.get(key);
    if (b) b.tokens = Math.min(this.burst, b.tokens + 1);
  }

  /** Whole seconds until an empty bucket holds one token again (at least 1). */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(1 / this.perSecond));
  }

  /** Drops buckets that have refilled completely (they carry no state). */
  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + ((now - b.updated) / 1000) * this.perSecond >= this.burst) this.buckets.delete(k);
  }
}

/**
 * The per-caller request limit. Keys are `key:<api key id>`, `agent:<agent id>` or `ip:<address>`
 * (failed authentication). `take` returns nothing when the request may proceed (the common case,
 * decided synchronously), a promise when it must wait for a lease; it throws (or rejects with)
 * RateLimitedError when the caller's budget is spent.
 */
export interface RequestLimiter {
  take(key: string): void | Promise<void>;
  close(): Promise<void>;
}

export interface LimiterObserver {
  refused(scope: LimitScope): void;
  leased(result: LeaseResult): void;
}

const NO_OBSERVER: LimiterObserver = { refused: () => undefined, leased: () => undefined };

function scopeOf(key: string): LimitScope {
  if (key.startsWith('key:')) return 'api_key';
  if (key.startsWith('agent:')) return 'agent';
  return 'address';
}

const refusal = (retryAfterSeconds: number) => new RateLimitedError('Too many requests; retry later', retryAfterSeconds);

/** One process's buckets: exact when one process serves the store (PGlite). */
export class LocalRequestLimiter implements RequestLimiter {
  private readonly buckets: RateLimiter;

  constructor(perSecond: number, private readonly observer: LimiterObserver = NO_OBSERVER, private readonly now: () => number = Date.now) {
    this.buckets = new RateLimiter(perSecond);
  }

  take(key: string): void {
    if (this.buckets.tryTake(key, this.now())) return;
    this.observer.refused(scopeOf(key));
    throw refusal(this.buckets.retryAfterSeconds);
  }

  async close(): Promise<void> {}
}

export interface ClusterLimiterOptions {
  perSecond: number;
  /** Bucket size (default 2 × perSecond, as the local limiter). */
  burst?: number;
  /** Tokens leased at a time (default 1/20 of a second's worth, at least 1). */
  slice?: number;
  /** Leased tokens not spent within this are dropped, so an idle replica hoards nothing (default 1000 ms). */
  leaseMs?: number;
  observer?: LimiterObserver;
  now?: () => number;
  /** Logs a database failure (the limiter then falls back to this process's own buckets). */
  onError?: (err: unknown) => void;
}

interface Slice {
  /** Leased tokens not yet spent. */
  tokens: number;
  /** When the leased tokens lapse (ms, local clock). */
  expires: number;
  /** Until when the shared bucket is known to be empty: refuse without asking (ms). */
  emptyUntil: number;
  /** The lease in flight, shared by every request that waits for it. */
  pending: Promise<void> | null;
  /** Requests waiting for `pending`; the next lease asks for enough for all of them. */
  waiting: number;
}

const MAX_SLICES = 100_000;

/**
 * The cluster-wide limit on PostgreSQL. Authenticated callers (`key:`, `agent:`) share one bucket
 * per caller across all replicas; failed authentication (`ip:`) stays per process, so traffic
 * without valid credentials never costs a database write.
 *
 * Accuracy: tokens are only ever spent after the shared bucket handed them out, so the cluster
 * accepts at most burst + perSecond × T requests in any period T (the slices leased but not spent
 * make it slightly stricter, never looser). Cost: one single-row upsert per `slice` requests per
 * replica; a request waits for it only when its replica's slice is spent, and a refreshed slice is
 * fetched in the background when half of it is gone. When the database fails, the limiter falls
 * back to this process's buckets instead of refusing service.
 */
export class ClusterRequestLimiter implements RequestLimiter {
  private readonly slices = new Map<string, Slice>();
  private readonly local: RateLimiter;
  private readonly burst: number;
  private readonly slice: number;
  private readonly leaseMs: number;
  private readonly observer: LimiterObserver;
  private readonly now: () => number;
  private readonly purgeTimer: NodeJS.Timeout;
  private purging: Promise<unknown> | null = null;
  private readonly onError: (err: unknown) => void;
  private closed = false;
  /** Leases asked for, and requests decided by this process's own buckets because a lease failed. */
  readonly stats = { leases: 0, fallbacks: 0 };

  constructor(private readonly db: Knex, private readonly perSecond: number, opts: Omit<ClusterLimiterOptions, 'perSecond'> = {}) {
    this.burst = opts.burst ?? perSecond * 2;
    this.slice = Math.max(1, Math.min(this.burst, opts.slice ?? Math.ceil(perSecond / 20)));
    this.leaseMs = opts.leaseMs ?? 1000;
    this.observer = opts.observer ?? NO_OBSERVER;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => undefined);
    this.local = new RateLimiter(perSecond, this.burst);
    // Rows of callers idle long enough to have refilled carry no state.
    const idleSeconds = Math.ceil(this.burst / perSecond) + 60;
    this.purgeTimer = setInterval(() => {
      this.purging ??= deleteIdleBuckets(this.db, idleSeconds)
        .catch((err) => this.onError(err))
        .finally(() => (this.purging = null));
    }, 60_000);
    this.purgeTimer.unref();
  }

  take(key: string): void | Promise<void> {
    if (key.startsWith('ip:')) return this.takeLocal(key);
    let s = this.slices.get(key);
    if (!s) {
      if (this.slices.size >= MAX_SLICES) this.sweep();
      s = { tokens: 0, expires: 0, emptyUntil: 0, pending: null, waiting: 0 };
      this.slices.set(key, s);
    }
    const now = this.now();
    if (s.tokens >= 1 && s.expires > now) {
      s.tokens -= 1;
      if (s.tokens < this.slice / 2 && !s.pending) void this.lease(key, s).catch(() => undefined);
      return;
    }
    if (s.emptyUntil > now) return this.refuse(key, s.emptyUntil - now);
    return this.wait(key, s);
  }

  private takeLocal(key: string): void {
    if (this.local.tryTake(key, this.now())) return;
    this.observer.refused(scopeOf(key));
    throw refusal(this.local.retryAfterSeconds);
  }

  private refuse(key: string, waitMs: number): never {
    this.observer.refused(scopeOf(key));
    throw refusal(Math.max(1, Math.ceil(waitMs / 1000)));
  }

  /** The slow path: this replica holds no token for `key`; wait for a lease (shared with concurrent requests). */
  private async wait(key: string, s: Slice): Promise<void> {
    s.waiting++;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await (s.pending ?? this.lease(key, s));
        } catch {
          this.stats.fallbacks++;
          return this.takeLocal(key);
        }
        const now = this.now();
        if (s.tokens >= 1 && s.expires > now) {
          s.tokens -= 1;
          return;
        }
        if (s.emptyUntil > now) return this.refuse(key, s.emptyUntil - now);
      }
      // Others took every token this replica leased for us: the bucket is being drained.
      return this.refuse(key, 1000 / this.perSecond);
    } finally {
      s.waiting--;
    }
  }

  private lease(key: string, s: Slice): Promise<void> {
    const want = Math.min(this.burst, Math.max(this.slice, s.waiting));
    const p = (async () => {
      this.stats.leases++;
      let granted: number;
      let remaining: number;
      try {
        ({ granted, remaining } = await leaseTokens(this.db, key, want, this.perSecond, this.burst));
      } catch (err) {
        this.observer.leased('error');
        if (!this.closed) this.onError(err);
        throw err;
      }
      const now = this.now();
      if (s.expires <= now) s.tokens = 0;
      s.tokens += granted;
      s.expires = now + this.leaseMs;
      this.observer.leased(granted > 0 ? 'granted' : 'empty');
      // Empty: nobody in the cluster gets a token before one refills; refuse locally until then.
      if (granted === 0) s.emptyUntil = now + Math.max(1, Math.ceil(((1 - remaining) / this.perSecond) * 1000));
    })().finally(() => {
      if (s.pending === p) s.pending = null;
    });
    s.pending = p;
    return p;
  }

  /** Drops callers with nothing leased and nothing pending. */
  private sweep(): void {
    const now = this.now();
    for (const [k, s] of this.slices) if (!s.pending && s.waiting === 0 && (s.tokens < 1 || s.expires <= now) && s.emptyUntil <= now) this.slices.delete(k);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.purgeTimer);
    await this.purging;
    await Promise.allSettled([...this.slices.values()].map((s) => s.pending));
  }
}
