/**
 * Whether the database answers, for /readyz. The probe is anonymous and polled by every load
 * balancer, so it must not turn a flood of requests into a flood of queries: one query at most per
 * interval, whatever the request rate. Concurrent callers share the query in flight, and its answer
 * (either way) stands for `intervalMs`.
 */
import type { Knex } from 'knex';

/** How long one answer of the database stands. */
export const READINESS_INTERVAL_MS = 1000;

export class DatabaseProbe {
  private last: { ok: boolean; at: number } | null = null;
  private running: Promise<boolean> | null = null;

  constructor(private readonly knex: Knex, private readonly intervalMs = READINESS_INTERVAL_MS, private readonly now: () => number = Date.now) {}

  /** True when the database answered within the last interval (asking it now if nobody has). */
  ready(): Promise<boolean> {
    if (this.last && this.now() - this.last.at < this.intervalMs) return Promise.resolve(this.last.ok);
    this.running ??= this.knex
      .raw('select 1')
      .then(() => true, () => false)
      .then((ok) => {
        this.last = { ok, at: this.now() };
        this.running = null;
        return ok;
      });
    return this.running;
  }
}
