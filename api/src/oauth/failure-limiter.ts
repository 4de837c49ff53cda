/**
 * Failure budgets of the token endpoint: each failed authentication takes a token from the client
 * address's bucket and from the claimed agent's bucket (RateLimiter). While both last, a failure
 * is answered and audited normally; once either is empty, further failures for that key are
 * answered 429 slow_down and cost nothing beyond the check that found them (no audit write, no log
 * line). The budget is consulted only AFTER the assertion was checked: a valid assertion is never
 * refused because of failures, its own or anyone else's. Successes cost nothing here.
 */
import { RateLimiter } from '../middleware/rate-limit';
import { addressKey } from './token-limits';

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

  /** `clock`: the budgets' time (injected by tests, so a budget refills only when they say). */
  constructor(
    private readonly limits: FailureLimits = DEFAULT_FAILURE_LIMITS,
    private readonly clock: () => number = Date.now,
  ) {
    this.byAddress = new RateLimiter(limits.perAddressPerSecond, limits.perAddressBurst);
    this.byAgent = new RateLimiter(limits.perAgentPerSecond, limits.perAgentBurst);
  }

  /**
   * Counts one failure against the address and the claimed agent (unverified: a failure naming an
   * agent only spends that agent's failure budget, which gates nothing but failures). Returns 0
   * while both budgets last, else the seconds until the exhausted one allows a failure again.
   */
  recordFailure(address: string | undefined, agentId: string | undefined, now = this.clock()): number {
    let wait = 0;
    if (!this.byAddress.tryTake(`ip:${addressKey(address)}`, now)) wait = Math.max(wait, 1 / this.limits.perAddressPerSecond);
    if (agentId && !this.byAgent.tryTake(`agent:${agentId}`, now)) wait = Math.max(wait, 1 / this.limits.perAgentPerSecond);
    return wait > 0 ? Math.max(1, Math.ceil(wait)) : 0;
  }
}
