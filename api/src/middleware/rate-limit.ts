/**
 * In-process token buckets. Each replica limits on its own; the limit is a guard against abuse
 * and runaway clients, not a billing quota, so per-replica accounting is sufficient.
 */
import { RateLimitedError } from '../errors';

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
