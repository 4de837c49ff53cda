/**
 * API-key authentication for the auth endpoints (introspection is called on every request of a
 * relying service, so it must not cost a database read each time). Verified keys are cached by
 * their HMAC (never the key itself) for at most a minute, and only on PostgreSQL with a healthy
 * LISTEN connection: a trigger announces every API-key revocation, which empties the cache. On
 * PGlite (no cross-process notification for API keys) every call goes to the organization service.
 *
 * A well-formed key whose lookup prefix names no key at all is refused from a bounded negative
 * cache of prefixes (both backends, while the bus is healthy; every API-key creation is announced
 * and empties it), so a made-up `aa_…` key costs no read after the first.
 */
import { hashApiKey, isWellFormedApiKey, lookupPrefix } from '../crypto/api-keys';
import type { AuthenticatedKey, OrganizationService } from '../services/organizations';
import type { InvalidationBus } from './invalidation';
import { newCacheStats } from '../metrics/metrics';
import { NegativeCache } from './negative-cache';

const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, { key: AuthenticatedKey; at: number }>();
  private generation = 0;
  readonly stats = newCacheStats();
  /** Lookup prefixes that name no key. */
  readonly unknownPrefixes: NegativeCache;

  constructor(private readonly orgs: OrganizationService, private readonly pepper: Buffer, private readonly bus: InvalidationBus) {
    this.unknownPrefixes = new NegativeCache(() => bus.healthy);
    bus.subscribe((e) => {
      if (e.kind === 'api_key' || e.kind === 'reset') {
        this.generation++;
        this.cache.clear();
        // A created key's prefix is not in the notification (nor anything derived from the key).
        this.unknownPrefixes.clear();
      }
    });
  }

  private get cacheable(): boolean {
    return this.bus.crossProcess && this.bus.healthy;
  }

  async authenticate(presented: string): Promise<AuthenticatedKey | null> {
    if (!isWellFormedApiKey(presented)) return null;
    const prefix = lookupPrefix(presented);
    if (this.unknownPrefixes.get(prefix)) return null;
    if (!this.cacheable) {
      this.stats.bypasses++;
      return this.resolve(presented, prefix);
    }
    const id = hashApiKey(this.pepper, presented).toString('base64');
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < TTL_MS) {
      this.stats.hits++;
      return hit.key;
    }
    this.stats.misses++;
    const g = this.generation;
    const key = await this.resolve(presented, prefix);
    if (key && this.cacheable && g === this.generation) {
      if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
      this.cache.set(id, { key, at: now });
    }
    return key;
  }

  /** The organization service's answer; a prefix that names no key is remembered. */
  private async resolve(presented: string, prefix: string): Promise<AuthenticatedKey | null> {
    const mark = this.unknownPrefixes.mark();
    const { key, unknownPrefix } = await this.orgs.resolve(presented);
    if (unknownPrefix) this.unknownPrefixes.remember(prefix, mark, true);
    return key;
  }
}
