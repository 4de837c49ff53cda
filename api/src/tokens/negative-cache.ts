/**
 * A bounded cache of ids known not to exist (an organization without keys, an agent, an API-key
 * prefix), so that a request naming one is refused without a database read, however often it is
 * repeated. Requests that cannot be valid must not cost reads, nor grow anything: the cache holds
 * at most `max` ids (the oldest are forgotten first, which only costs a read again), and it is
 * separate from the caches of things that exist, so a flood of made-up ids evicts none of those.
 *
 * Correctness rules (as for the other auth caches, tokens/state.ts):
 * - an answer is trusted only while `trusted()` holds (the invalidation bus is healthy); otherwise
 *   every lookup reads;
 * - a creation is announced on the bus (in this process by the service, on every replica by a
 *   trigger), and the creator of the cache forgets the id then (`forget`); a `reset` clears it;
 * - an absence read from the database is kept only if nothing was forgotten while it was read (a
 *   generation counter), so a read that raced a creation can never hide the created thing.
 */
import { CacheStats, newCacheStats } from '../metrics/metrics';

/** How many absent ids each cache holds at most. */
export const MAX_ABSENT_IDS = 10_000;

export class NegativeCache<V = true> {
  private readonly absent = new Map<string, V>();
  private generation = 0;
  /** hit: refused from memory; miss: read the database (then possibly kept); bypass: read because the cache could not be trusted. */
  readonly stats: CacheStats = newCacheStats();

  constructor(private readonly trusted: () => boolean, private readonly max = MAX_ABSENT_IDS) {}

  /** What is known of `id`'s absence (undefined: nothing, read the database). Counts the lookup. */
  get(id: string): V | undefined {
    if (!this.trusted()) {
      this.stats.bypasses++;
      return undefined;
    }
    const v = this.absent.get(id);
    if (v === undefined) this.stats.misses++;
    else this.stats.hits++;
    return v;
  }

  /** Taken before a read whose absence may be kept: pass it to `remember`. */
  mark(): number {
    return this.generation;
  }

  /** Keeps `id` as absent, read after `mark` was taken (dropped if anything was forgotten since). */
  remember(id: string, mark: number, value: V): void {
    if (mark !== this.generation || !this.trusted()) return;
    this.absent.delete(id);
    if (this.absent.size >= this.max) this.absent.delete(this.absent.keys().next().value!);
    this.absent.set(id, value);
  }

  /** `id` may exist now (created, or changed). */
  forget(id: string): void {
    this.generation++;
    this.absent.delete(id);
  }

  /** `id` was found to exist: no longer absent (nothing was created that a read in flight could have missed). */
  delete(id: string): void {
    this.absent.delete(id);
  }

  /** Anything may exist now. */
  clear(): void {
    this.generation++;
    this.absent.clear();
  }

  get size(): number {
    return this.absent.size;
  }
}
