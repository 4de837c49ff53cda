/**
 * The resource servers' `introspection` option: besides verifying a token offline, ask the control
 * plane (RFC 7662) whether it is still active, so a suspension, a revocation or an ended session
 * refuses the next call instead of waiting for the token to expire. Answers are remembered for a
 * short time in a small bounded cache (per token), and concurrent checks of one token share one
 * request. A failed or unusable answer is never remembered and never counts as active.
 */
import { CertusOrdoClient } from '../client';
import type { Fetch } from '../core/fetch';

export interface IntrospectionOptions {
  /**
   * An API key of the organization. Give the resource server an `introspector` key: it can
   * introspect and read nothing else (no agents, no audit log).
   */
  apiKey: string;
}

/** Knobs of the cache, for tests and tuning; the defaults keep a suspension visible within 1 s. */
export interface IntrospectionTuning {
  /** How long an answer is reused (default 500 ms; at most 1000). */
  cacheTtlMs?: number | undefined;
  /** How many tokens' answers are kept (default 1000; the oldest is dropped first). */
  maxCacheEntries?: number | undefined;
  /** Timeout of one introspection request (default 2000 ms). */
  timeoutMs?: number | undefined;
  /** Milliseconds clock (default `Date.now`). */
  now?: (() => number) | undefined;
  fetch?: Fetch | undefined;
}

export const MAX_INTROSPECTION_CACHE_TTL_MS = 1000;
const DEFAULT_TTL_MS = 500;
const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_TIMEOUT_MS = 2000;

/** Ok: the control plane answered; `active` is its verdict. Unavailable: no usable answer. */
export type IntrospectionVerdict = { readonly ok: true; readonly active: boolean } | { readonly ok: false; readonly cause: unknown };

interface Remembered {
  readonly active: boolean;
  readonly until: number;
}

export class IntrospectionGate {
  readonly #client: CertusOrdoClient;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #answers = new Map<string, Remembered>();
  readonly #pending = new Map<string, Promise<IntrospectionVerdict>>();

  constructor(baseUrl: string, options: IntrospectionOptions, tuning: IntrospectionTuning = {}) {
    if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('introspection.apiKey must be an API key of the organization (an introspector key)');
    const ttl = tuning.cacheTtlMs ?? DEFAULT_TTL_MS;
    if (!(ttl >= 0 && ttl <= MAX_INTROSPECTION_CACHE_TTL_MS)) throw new TypeError(`cacheTtlMs must be 0-${MAX_INTROSPECTION_CACHE_TTL_MS}`);
    this.#ttlMs = ttl;
    this.#maxEntries = Math.max(1, tuning.maxCacheEntries ?? DEFAULT_MAX_ENTRIES);
    this.#now = tuning.now ?? Date.now;
    // No retries: a resource server answers its caller now; the caller retries a refused call.
    this.#client = new CertusOrdoClient({ apiKey: options.apiKey, baseUrl, maxRetries: 0, timeoutMs: tuning.timeoutMs ?? DEFAULT_TIMEOUT_MS, fetch: tuning.fetch });
  }

  /** The control plane's verdict on `token` (`key`: its `jti`), from the cache while fresh. */
  check(token: string, key: string): Promise<IntrospectionVerdict> {
    const now = this.#now();
    const known = this.#answers.get(key);
    if (known && known.until > now) return Promise.resolve({ ok: true, active: known.active });
    if (known) this.#answers.delete(key);
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#ask(token, key);
      this.#pending.set(key, pending);
      void pending.finally(() => this.#pending.delete(key));
    }
    return pending;
  }

  async #ask(token: string, key: string): Promise<IntrospectionVerdict> {
    try {
      const answer = await this.#client.introspect(token);
      this.#remember(key, answer.active === true);
      return { ok: true, active: answer.active === true };
    } catch (cause) {
      return { ok: false, cause };
    }
  }

  #remember(key: string, active: boolean): void {
    if (this.#ttlMs === 0) return;
    this.#answers.delete(key);
    while (this.#answers.size >= this.#maxEntries) this.#answers.delete(this.#answers.keys().next().value!);
    this.#answers.set(key, { active, until: this.#now() + this.#ttlMs });
  }

  /** Entries held (for tests of the bound). */
  get size(): number {
    return this.#answers.size;
  }
}
