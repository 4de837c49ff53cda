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

/** Sessions of the current database waiting for a lock; with `table`, only those whose query names it. */
export async function lockWaiters(db: Knex, table?: string): Promise<number> {
  if ((db as Knex & { isTransaction?: boolean }).isTransaction) throw new TypeError('lockWaiters: pass a pool, not a transaction (its pg_stat_activity is a snapshot)');
  const filter = table === undefined ? '' : ` and query ilike ?`;
  const bindings = table === undefined ? [] : [`%${table}%`];
  const result = await db.raw(
    `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()${filter}`,
    bindings,
  );
  return result.rows[0].n as number;
}

/**
 * Resolves with the number of waiting sessions once `until` holds for it. It polls for as long as
 * it takes, because how soon a query reaches the server depends on the machine's load; the test's
 * own timeout ends a wait that never comes, and the loop stops when its connection is closed.
 */
export async function untilLockWaiters(db: Knex, until: (n: number) => boolean, table?: string): Promise<number> {
  for (;;) {
    const n = await lockWaiters(db, table);
    if (until(n)) return n;
  }
}
