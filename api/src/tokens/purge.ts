/**
 * The auth module's retention rules, run by its maintenance tick on every replica (the deletes are
 * idempotent, so concurrent purges are harmless):
 *
 * - spent client-assertion jtis: once the assertion has expired (a replay is refused by its exp);
 * - revoked-token records: once the token has expired (it is refused by its exp);
 * - sessions: `sessionRetentionMs` after they were over (ended, or expired, whichever came first).
 *   A purged session is gone from the API (404); its tokens had already stopped working.
 *
 * Both expiries get a minute of slack for clock differences between replicas. Sessions are
 * deleted in bounded batches, so one tick never holds a long statement; what remains is deleted by
 * the next tick.
 */
import type { Knex } from 'knex';
import { deleteSessionsOverBefore } from '../db/operations/sessions';
import { deleteExpiredAssertionJtis, deleteExpiredRevokedTokens } from '../db/operations/tokens';

export const DEFAULT_SESSION_RETENTION_MS = 30 * 24 * 3600 * 1000;
const EXPIRY_SLACK_MS = 60_000;
const SESSION_BATCH = 1000;
const MAX_SESSION_BATCHES = 20;

export interface PurgeOptions {
  now?: number;
  sessionRetentionMs?: number;
}

export interface PurgeCounts {
  assertionJtis: number;
  revokedTokens: number;
  sessions: number;
}

export async function purgeAuthRows(db: Knex, opts: PurgeOptions = {}): Promise<PurgeCounts> {
  const now = opts.now ?? Date.now();
  const expired = new Date(now - EXPIRY_SLACK_MS);
  const assertionJtis = await deleteExpiredAssertionJtis(db, expired);
  const revokedTokens = await deleteExpiredRevokedTokens(db, expired);
  const over = new Date(now - (opts.sessionRetentionMs ?? DEFAULT_SESSION_RETENTION_MS));
  let sessions = 0;
  for (let i = 0; i < MAX_SESSION_BATCHES; i++) {
    const n = await deleteSessionsOverBefore(db, over, SESSION_BATCH);
    sessions += n;
    if (n < SESSION_BATCH) break;
  }
  return { assertionJtis, revokedTokens, sessions };
}
