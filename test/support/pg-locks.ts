/**
 * Observing lock waits in PostgreSQL, so a test that holds a lock can wait for the moment another
 * session queues behind it instead of sleeping. PostgreSQL only: PGlite has one connection.
 *
 * Ask from outside the transaction that holds the lock: a backend reads pg_stat_activity once per
 * transaction and answers every later read in it from that snapshot, so a poll inside the holder
 * would never see a waiter that arrived after its first read. Only a pool, never a transaction,
 * is accepted.
 */
import type { Knex } from 'knex';

/** Which waiters count: those whose query names `table`, those `blockedBy` the given backend (its pid). */
export interface LockWaiterFilter {
  table?: string;
  blockedBy?: number;
}

/** Sessions of the current database waiting for a lock, narrowed by `filter`. */
export async function lockWaiters(db: Knex, filter: LockWaiterFilter = {}): Promise<number> {
  if ((db as Knex & { isTransaction?: boolean }).isTransaction) throw new TypeError('lockWaiters: pass a pool, not a transaction (its pg_stat_activity is a snapshot)');
  const where: string[] = [];
  const bindings: Array<string | number> = [];
  if (filter.table !== undefined) {
    where.push('query ilike ?');
    bindings.push(`%${filter.table}%`);
  }
  if (filter.blockedBy !== undefined) {
    where.push('?::int = any(pg_blocking_pids(pid))');
    bindings.push(filter.blockedBy);
  }
  const result = await db.raw(
    `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()${where.map((w) => ` and ${w}`).join('')}`,
    bindings,
  );
  return result.rows[0].n as number;
}

/**
 * Resolves with the number of waiting sessions once `until` holds for it. It polls for as long as
 * it takes, because how soon a query reaches the server depends on the machine's load; the test's
 * own timeout ends a wait that never comes, and the loop stops when its connection is closed.
 */
export async function untilLockWaiters(db: Knex, until: (n: number) => boolean, filter: LockWaiterFilter = {}): Promise<number> {
  for (;;) {
    const n = await lockWaiters(db, filter);
    if (until(n)) return n;
  }
}
