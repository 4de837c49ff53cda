/**
 * The limits around the OAuth endpoints that bound what one agent or one client address can make
 * the control plane do (and store):
 *
 * - failures: FailureLimiter (per address and per claimed agent), consulted after verification;
 * - successes: successful token requests per agent (every success writes a jti row and an audit
 *   event), keyed by the VERIFIED agent, so only a holder of the agent's key can spend it;
 * - spent assertions: the jtis this replica has passed to the issuing transaction, so a replayed
 *   assertion is refused without a database round trip (the transaction stays the authority
 *   across replicas);
 * - anonymous revocations per client address (a request without credentials still costs a
 *   signature check, and a key lookup for an unknown kid).
 *
 * All of them are in-process (per replica), like the API rate limit: they guard against abuse and
 * runaway clients, they are not quotas.
 */
import { isIP } from 'node:net';
import { RateLimiter } from '../middleware/rate-limit';
import { DEFAULT_FAILURE_LIMITS, FailureLimiter, FailureLimits } from './failure-limiter';

export interface EndpointLimitSettings {
  /** Successful token requests per agent per minute (the bucket holds one minute's worth). */
  tokenRateLimitPerMinute: number;
  /** Revocation requests without credentials per client address per minute. */
  revokeRateLimitPerMinute: number;
}

/** Expands an IPv6 address to its eight 16-bit groups (null when it is not one). */
function ipv6Groups(ip: string): number[] | null {
  let text = ip.split('%')[0]!;
  const lastColon = text.lastIndexOf(':');
  const dotted = text.slice(lastColon + 1);
  if (isIP(dotted) === 4) {
    const [a, b, c, d] = dotted.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [head, rest, ...more] = text.split('::');
  if (more.length) return null;
  const h = parse(head!);
  const r = rest === undefined ? [] : parse(rest);
  const fill = 8 - h.length - r.length;
  if (rest === undefined ? fill !== 0 : fill < 0) return null;
  const groups = [...h, ...Array<number>(fill).fill(0), ...r];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * The key a client address is limited under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64
 * (one subscriber usually holds a whole /64, so per-address limits would not bind otherwise).
 */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  if (isIP(ip) !== 6) return ip;
  const g = ipv6Groups(ip);
  if (!g) return ip;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

/** A per-key budget of `perMinute` requests, refilled continuously, holding one minute's worth. */
export class PerMinuteLimit {
  private readonly limiter: RateLimiter;

  constructor(perMinute: number) {
    this.limiter = new RateLimiter(perMinute / 60, Math.max(1, perMinute));
  }

  /** Takes one; returns 0, or the seconds to wait when the budget is spent. */
  take(key: string, now = Date.now()): number {
    return this.limiter.tryTake(key, now) ? 0 : this.limiter.retryAfterSeconds;
  }

  refund(key: string): void {
    this.limiter.refund(key);
  }
}

const MAX_SPENT = 100_000;

/** Client assertions (agent + jti) this replica has passed on, until they expire. */
export class SpentAssertions {
  /** key → the time after which the assertion's own expiry refuses it anyway (ms). */
  private readonly spent = new Map<string, number>();

  has(agentId: string, jti: string, now = Date.now()): boolean {
    const until = this.spent.get(`${agentId} ${jti}`);
    return until !== undefined && until > now;
  }

  add(agentId: string, jti: string, untilMs: number, now = Date.now()): void {
    // Assertions arrive in about the order they expire (their lifetimes are short and alike), so
    // the oldest entries go as new ones come: the map holds the assertions still alive, not the
    // last MAX_SPENT ever seen. An entry that outlives those behind it only delays their turn.
    for (const [k, t] of this.spent) {
      if (t > now) break;
      this.spent.delete(k);
    }
    if (this.spent.size >= MAX_SPENT) {
      for (const [k, t] of this.spent) if (t <= now) this.spent.delete(k);
      // Still full: forget the oldest (insertion order); their replays then meet the database's check.
      for (const k of this.spent.keys()) {
        if (this.spent.size < MAX_SPENT) break;
        this.spent.delete(k);
      }
    }
    this.spent.set(`${agentId} ${jti}`, untilMs);
  }

  delete(agentId: string, jti: string): void {
    this.spent.delete(`${agentId} ${jti}`);
  }

  get size(): number {
    return this.spent.size;
  }
}

export class EndpointLimits {
  readonly failures: FailureLimiter;
  readonly successes: PerMinuteLimit;
  readonly spent = new SpentAssertions();
  readonly anonymousRevocations: PerMinuteLimit;

  constructor(settings: EndpointLimitSettings, failureLimits: FailureLimits = DEFAULT_FAILURE_LIMITS, clock: () => number = Date.now) {
    this.failures = new FailureLimiter(failureLimits, clock);
    this.successes = new PerMinuteLimit(settings.tokenRateLimitPerMinute);
    this.anonymousRevocations = new PerMinuteLimit(settings.revokeRateLimitPerMinute);
  }
}
