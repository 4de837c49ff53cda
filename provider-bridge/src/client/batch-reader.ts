/**
 * Coalesces concurrent single-id reads into batched requests. Terraform refreshes every resource
 * instance with its own ReadResource call (at most `-parallelism` at a time), and one GET per agent
 * makes the control plane's per-request cost, not the work, the price of a plan.
 *
 * No timer decides when a batch leaves, so nothing waits for a window to close: the first read goes
 * out on the next turn of the event loop, and while `maxInFlight` batches are on their way the
 * reads that arrive meanwhile queue up and leave together as soon as one of them comes back. With
 * Terraform's ten concurrent reads and one batch in flight, batches hold about ten ids.
 */

/** Loads up to `maxBatch` ids at once; ids absent from the result do not exist. */
export type BatchLoad<T> = (ids: readonly string[]) => Promise<ReadonlyMap<string, T>>;

export interface BatchReaderOptions<T> {
  load: BatchLoad<T>;
  /** Most ids per load call. */
  maxBatch: number;
  /** Most load calls outstanding at once. */
  maxInFlight?: number;
  /** Runs a flush later; defaults to setImmediate. Tests pass a manual queue to decide when batches leave. */
  schedule?: (flush: () => void) => void;
}

interface Waiter<T> {
  resolve(value: T | null): void;
  reject(err: unknown): void;
}

export class BatchReader<T> {
  private readonly pending = new Map<string, Waiter<T>[]>();
  private inFlight = 0;
  private scheduled = false;
  private readonly maxInFlight: number;
  private readonly schedule: (flush: () => void) => void;

  constructor(private readonly opts: BatchReaderOptions<T>) {
    if (opts.maxBatch < 1) throw new RangeError('maxBatch must be at least 1');
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
    this.schedule = opts.schedule ?? ((f) => setImmediate(f));
  }

  /** The value for `id`, or null when the load did not return it. Concurrent calls for one id share a slot. */
  get(id: string): Promise<T | null> {
    return new Promise<T | null>((resolve, reject) => {
      const waiters = this.pending.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(id, [{ resolve, reject }]);
      this.kick();
    });
  }

  /** Ids waiting for a batch (for tests and debug logs). */
  get queued(): number {
    return this.pending.size;
  }

  private kick(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.pending.size === 0) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.pending.size > 0 && this.inFlight < this.maxInFlight) {
      const batch = new Map<string, Waiter<T>[]>();
      for (const [id, waiters] of this.pending) {
        if (batch.size >= this.opts.maxBatch) break;
        batch.set(id, waiters);
      }
      for (const id of batch.keys()) this.pending.delete(id);
      this.inFlight++;
      let loading: Promise<ReadonlyMap<string, T>>;
      try {
        loading = this.opts.load([...batch.keys()]);
      } catch (err) {
        loading = Promise.reject(err);
      }
      loading
        .then(
          (found) => {
            for (const [id, waiters] of batch) for (const w of waiters) w.resolve(found.get(id) ?? null);
          },
          (err: unknown) => {
            for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.kick();
        });
    }
  }
}
