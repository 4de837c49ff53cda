/**
 * The one retry policy of every CertusOrdo client.
 *
 * What is retried: network errors, timeouts, 408, 429 and 5xx (openai-node / stripe-node rules),
 * except 409, which in this API is a real conflict, never a transient one. A server's
 * `x-should-retry: true|false` overrides the status either way.
 *
 * How long to wait: the server's `Retry-After` (or `retry-after-ms`) when it sent one, capped at
 * `maxRetryAfterMs` so a misconfigured server cannot park a client for hours; otherwise exponential
 * backoff with full jitter (a uniformly random wait between 0 and min(initial * 2^attempt, max)),
 * which spreads the retries of many parallel callers, e.g. Terraform's concurrent operations
 * meeting one rate limit, instead of bunching them up again.
 */
import type { HeadersLike } from './fetch';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** The backoff ceiling of the first retry; doubled for each further one. */
  initialDelayMs: number;
  /** The largest backoff ceiling. */
  maxDelayMs: number;
  /** The longest `Retry-After` honoured as sent; a longer one waits this long. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 2,
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
});

/** Whether a non-2xx answer is worth another attempt. */
export function shouldRetry(response: { status: number; headers: HeadersLike }): boolean {
  const hint = response.headers.get('x-should-retry');
  if (hint === 'true') return true;
  if (hint === 'false') return false;
  return response.status === 408 || response.status === 429 || response.status >= 500;
}

export interface DelayInputs {
  /** Uniform in [0, 1); defaults to Math.random. */
  random?: () => number;
  /** Milliseconds since the epoch, for an HTTP-date `Retry-After`; defaults to Date.now. */
  now?: () => number;
  policy?: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs'>;
}

/** The wait before retry number `attempt + 1` (attempt 0 is the first retry). */
export function retryDelayMs(attempt: number, headers: HeadersLike | undefined, inputs: DelayInputs = {}): number {
  const policy = inputs.policy ?? DEFAULT_RETRY_POLICY;
  const hinted = headers ? retryAfterMs(headers, (inputs.now ?? Date.now)()) : undefined;
  if (hinted !== undefined) return Math.min(hinted, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.initialDelayMs * 2 ** attempt, policy.maxDelayMs);
  return Math.floor((inputs.random ?? Math.random)() * ceiling);
}

/** Reads `retry-after-ms` or `Retry-After` (seconds or an HTTP date), in ms from `now`. */
export function retryAfterMs(headers: HeadersLike, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
