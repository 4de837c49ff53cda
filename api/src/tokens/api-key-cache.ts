/**
 * API-key authentication for the auth endpoints (introspection is called on every request of a
 * relying service, so it must not cost a database read each time). Verified keys are cached by
 * their HMAC (never the key itself) for at most a minute, and only on PostgreSQL with a healthy
 * LISTEN connection: a trigger announces every API-key revocation, which empties the cache. On
 * PGlite (no cross-process notification for API keys) every call goes to the organization service.
 */
import { hashApiKey } from '../crypto/api-keys';
import type { AuthenticatedKey, OrganizationService } from '../services/organizations';
import type { InvalidationBus } from './invalidation';
import { newCacheStats } from '../metrics/metrics';

const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, { key: AuthenticatedKey; at: number }>();
  private generation = 0;
  readonly stats = newCacheStats();

  constructor(private readonly orgs: OrganizationService, private readonly pepper: Buffer, private readonly bus: InvalidationBus) {
    bus.subscribe((e) => {
      if (e.kind === 'api_key' || e.kind === 'reset') {
        this.generation++;
        this.cache.clear();
      }
    });
  }

  private get cacheable(): boolean {
    return this.bus.crossProcess && this.bus.healthy;
  }

  async authenticate(presented: string): Promise<AuthenticatedKey | null> {
    if (!this.cacheable) {
      this.stats.bypasses++;
      return this.orgs.authenticate(presented);
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
    const key = await this.orgs.authenticate(presented);
    if (key && this.cacheable && g === this.generation) {
      if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
      this.cache.set(id, { key, at: now });
    }
    return key;
  }
}
