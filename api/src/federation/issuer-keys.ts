/**
 * Issuers' keys by OpenID discovery (`<issuer>/.well-known/openid-configuration` → `jwks_uri`),
 * cached per issuer. A token with a kid the cache does not know, or a set older than its maximum
 * age, triggers a refresh — at most one per issuer per refresh interval (30 s), whatever the
 * number of requests: a flood of unknown kids costs the issuer and the control plane at most one
 * discovery and one JWKS fetch per interval. Concurrent requests for one issuer share its refresh;
 * each issuer's state is its own, so an issuer that is down (each fetch bounded by the fetcher's
 * timeout) holds up only the requests of agents that trust it. A failed refresh keeps the keys
 * already known, for at most an hour since they were fetched: past that, a set nobody could confirm
 * is dropped, so a key the issuer withdrew is not trusted for as long as its endpoints stay down.
 */
import type { JsonFetcher } from './fetch';
import { IssuerFetchError } from './fetch';
import { readFetchedJwks, VerificationKey } from './jwks';

export interface IssuerKeysOptions {
  /** The clock of the refresh interval and the maximum age (tests move it). */
  now?: () => number;
  /** Least time between two fetches for one issuer. */
  refreshIntervalMs?: number;
  /** Keys older than this are refreshed on their next use (so a key the issuer withdrew stops working). */
  maxAgeMs?: number;
  /** Keys not confirmed by a fetch for this long are no longer trusted, even when refreshes keep failing. */
  staleLimitMs?: number;
  /** Issuers remembered at most (the least recently refreshed are forgotten first). */
  maxIssuers?: number;
  /** Told of every failed refresh (logging); never given a document's content. */
  onError?: (issuer: string, err: Error) => void;
}

export const REFRESH_INTERVAL_MS = 30_000;
const MAX_AGE_MS = 10 * 60_000;
const STALE_LIMIT_MS = 60 * 60_000;
const MAX_ISSUERS = 1_000;

interface Entry {
  keys: VerificationKey[];
  /** When the keys were fetched (0: never). */
  fetchedAtMs: number;
  /** When the last fetch started. */
  attemptedAtMs: number;
  refreshing: Promise<void> | null;
}

export class IssuerKeys {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly refreshIntervalMs: number;
  private readonly maxAgeMs: number;
  private readonly staleLimitMs: number;
  private readonly maxIssuers: number;
  /** Fetches started, by issuer (diagnostics and tests). */
  readonly fetches = new Map<string, number>();

  constructor(private readonly fetchJson: JsonFetcher, private readonly options: IssuerKeysOptions = {}) {
    this.now = options.now ?? Date.now;
    this.refreshIntervalMs = options.refreshIntervalMs ?? REFRESH_INTERVAL_MS;
    this.maxAgeMs = options.maxAgeMs ?? MAX_AGE_MS;
    this.staleLimitMs = Math.max(this.maxAgeMs, options.staleLimitMs ?? STALE_LIMIT_MS);
    this.maxIssuers = options.maxIssuers ?? MAX_ISSUERS;
  }

  /** The issuer's keys, refreshed first when `kid` is unknown or the set is old (within the refresh budget). */
  async keys(issuer: string, kid: string | undefined): Promise<VerificationKey[]> {
    let e = this.entries.get(issuer);
    const now = this.now();
    const unknownKid = e !== undefined && kid !== undefined && !e.keys.some((k) => k.kid === kid);
    const old = e === undefined || now - e.fetchedAtMs >= this.maxAgeMs;
    if (e?.refreshing) await e.refreshing;
    else if ((old || unknownKid) && (e === undefined || now - e.attemptedAtMs >= this.refreshIntervalMs)) await this.refresh(issuer, now);
    e = this.entries.get(issuer);
    if (!e || this.now() - e.fetchedAtMs > this.staleLimitMs) return [];
    return e.keys;
  }

  private refresh(issuer: string, now: number): Promise<void> {
    let e = this.entries.get(issuer);
    if (!e) {
      if (this.entries.size >= this.maxIssuers) this.evictOne();
      e = { keys: [], fetchedAtMs: 0, attemptedAtMs: now, refreshing: null };
      this.entries.set(issuer, e);
    }
    const entry = e;
    entry.attemptedAtMs = now;
    entry.refreshing = this.fetchKeys(issuer)
      .then((keys) => {
        entry.keys = keys;
        entry.fetchedAtMs = this.now();
      })
      .catch((err: Error) => this.options.onError?.(issuer, err))
      .finally(() => (entry.refreshing = null));
    return entry.refreshing;
  }

  private async fetchKeys(issuer: string): Promise<VerificationKey[]> {
    const count = () => this.fetches.set(issuer, (this.fetches.get(issuer) ?? 0) + 1);
    count();
    const config = await this.fetchJson(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
    const doc = config !== null && typeof config === 'object' ? (config as Record<string, unknown>) : {};
    // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
    if (doc.issuer !== issuer) throw new IssuerFetchError('the discovery document names another issuer');
    if (typeof doc.jwks_uri !== 'string') throw new IssuerFetchError('the discovery document has no jwks_uri');
    count();
    return readFetchedJwks(await this.fetchJson(doc.jwks_uri));
  }

  private evictOne(): void {
    let oldest: string | undefined;
    let at = Infinity;
    for (const [issuer, e] of this.entries) {
      if (!e.refreshing && e.attemptedAtMs < at) {
        oldest = issuer;
        at = e.attemptedAtMs;
      }
    }
    if (oldest !== undefined) this.entries.delete(oldest);
  }
}
