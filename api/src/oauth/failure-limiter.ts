/**
 * Throttles failed authentications: each failure takes a token from the client address's bucket
 * and the claimed agent's bucket (RateLimiter); once a bucket is empty, further attempts for that
 * key are refused (429 slow_down) until it has refilled one token — without doing any work.
 * Successful authentications cost nothing.
 */
import { RateLimiter } from '../middleware/rate-limit';

export interface FailureLimits {
  perAddressPerSecond: number;
  perAddressBurst: number;
  perAgentPerSecond: number;
  perAgentBurst: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = { perAddressPerSecond: 5, perAddressBurst: 50, perAgentPerSecond: 2, perAgentBurst: 20 };

export class FailureLimiter {
  private readonly byAddress: RateLimiter;
  private readonly byAgent: RateLimiter;
  private readonly blockedUntil = new Map<string, number>();

  constructor(private readonly limits: FailureLimits = DEFAULT_FAILURE_LIMITS) {
    this.byAddress = new RateLimiter(limits.perAddressPerSecond, limits.perAddressBurst);
    this.byAgent = new RateLimiter(limits.perAgentPerSecond, limits.perAgentBurst);
  }

  /** Seconds to wait when `address` or `agentId` is currently blocked, else 0. */
  retryAfter(address: string, agentId: string | undefined, now = Date.now()): number {
    const until = Math.max(this.blockedUntil.get(`ip:${address}`) ?? 0, agentId ? (this.blockedUntil.get(`agent:${agentId}`) ?? 0) : 0);
    return until > now ? Math.max(1, Math.ceil((until - now) / 1000)) : 0;
  }

  recordFailure(address: string, agentId: string | undefined, now = Date.now()): void {
    if (this.blockedUntil.size > 100_000) for (const [k, t] of this.blockedUntil) if (t <= now) this.blockedUntil.delete(k);
    if (!this.byAddress.tryTake(`ip:${address}`, now)) this.blockedUntil.set(`ip:${address}`, now + 1000 / this.limits.perAddressPerSecond);
    if (agentId && !this.byAgent.tryTake(`agent:${agentId}`, now)) this.blockedUntil.set(`agent:${agentId}`, now + 1000 / this.limits.perAgentPerSecond);
  }
}
