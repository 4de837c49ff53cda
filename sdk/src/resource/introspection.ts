/**
 * The resource servers' `introspection` option: besides verifying a token offline, ask the control
 * plane (RFC 7662) whether it is still active, so a suspension, a revocation or an ended session
 * refuses the next call instead of waiting for the token to expire. Answers are remembered for a
 * short time in a small bounded cache (per token), and concurrent checks of one token share one
 * request. A failed or unusable answer is never remembered and never counts as active.
 */
import {
  INTROSPECTION_CACHE_RULE, INTROSPECTION_CACHE_SIZE, INTROSPECTION_CACHE_TTL_DEFAULT_SECONDS, INTROSPECTION_CACHE_TTL_MAX_SECONDS,
} from '../../../model/limits';
import { CertusOrdoClient } from '../client';
import type { Fetch } from '../core/fetch';

export interface IntrospectionOptions {
  /**
   * An API key of the organization. Give the resource server an `introspector` key: it can
   * introspect and read nothing else (no agents, no audit log).
   */
  apiKey: string;
}

/** Knobs of the cache, for tests and tuning (model/limits.ts INTROSPECTION_CACHE_RULE); the defaults keep a suspension visible within 1 s. */
export interface IntrospectionTuning {
  /** How long an answer is reused, in ms. */
  cacheTtlMs?: number | undefined;
  /** How many tokens' answers are kept (the oldest is dropped first). */
  maxCacheEntries?: number | undefined;
  /** Timeout of one introspection request (default 2000 ms). */
  timeoutMs?: number | undefined;
  /** Milliseconds clock (default `Date.now`). */
  now?: (() => number) | undefined;
  fetch?: Fetch | undefined;
}

const DEFAULT_TIMEOUT_MS = 2000;

/**
 * Ok: the control plane answered; `active` is its verdict and `scopes` what the token holds now
 * (a scope removed from the agent, or from an actor of its chain, is gone from its live tokens at
 * once; undefined when the answer named none). Unavailable: no usable answer.
 */
export type IntrospectionVerdict =
  | { readonly ok: true; readonly active: boolean; readonly scopes: readonly string[] | undefined }
  | { readonly ok: false; readonly cause: unknown };

interface Remembered {
  readonly active: boolean;
  readonly scopes: readonly string[] | undefined;
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
    const ttl = tuning.cacheTtlMs ?? INTROSPECTION_CACHE_TTL_DEFAULT_SECONDS * 1000;
    if (!(ttl >= 0 && ttl <= INTROSPECTION_CACHE_TTL_MAX_SECONDS * 1000)) throw new TypeError(`cacheTtlMs (milliseconds): ${INTROSPECTION_CACHE_RULE}`);
    this.#ttlMs = ttl;
    this.#maxEntries = Math.max(1, tuning.maxCacheEntries ?? INTROSPECTION_CACHE_SIZE);
    this.#now = tuning.now ?? Date.now;
    // No retries: a resource server answers its caller now; the caller retries a refused call.
    this.#client = new CertusOrdoClient({ apiKey: options.apiKey, baseUrl, maxRetries: 0, timeoutMs: tuning.timeoutMs ?? DEFAULT_TIMEOUT_MS, fetch: tuning.fetch });
  }

  /** The control plane's verdict on `token` (`key`: its `jti`), from the cache while fresh. */
  check(token: string, key: string): Promise<IntrospectionVerdict> {
    const now = this.#now();
    const known = this.#answers.get(key);
    if (known && known.until > now) return Promise.resolve({ ok: true, active: known.active, scopes: known.scopes });
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
      const active = answer.active === true;
      const scopes = active && typeof answer.scope === 'string' ? answer.scope.split(' ').filter(Boolean) : undefined;
      this.#remember(key, active, scopes);
      return { ok: true, active, scopes };
    } catch (cause) {
      return { ok: false, cause };
    }
  }

  #remember(key: string, active: boolean, scopes: readonly string[] | undefined): void {
    if (this.#ttlMs === 0) return;
    this.#answers.delete(key);
    while (this.#answers.size >= this.#maxEntries) this.#answers.delete(this.#answers.keys().next().value!);
    this.#answers.set(key, { active, scopes, until: this.#now() + this.#ttlMs });
  }

  /** Entries held (for tests of the bound). */
  get size(): number {
    return this.#answers.size;
  }
}
