/** Session queries: one function per query, each taking the knex handle or transaction to run on. */
import type { Knex } from 'knex';
import type { DbSessionRenewalRow, DbSessionRow } from '../tables';
import type { AgentStatus, SessionStatus } from '../../../../model/statuses';

type Tx = Knex | Knex.Transaction;

/** A session row with the jti of the access token that opened it (null for sessions opened before it was recorded). */

export async function insertSession(tx: Tx, row: DbSessionRow): Promise<void> {
  await tx('sessions').insert({ ...row, scopes: JSON.stringify(row.scopes) });
}

export async function getSession(tx: Tx, orgId: string, id: string): Promise<DbSessionRow | undefined> {
  return tx<DbSessionRow>('sessions').where({ organization_id: orgId, id }).first();
}

/** Session state for token checks (not organization-scoped: the token names its session). */
export async function getSessionState(tx: Tx, id: string): Promise<Pick<DbSessionRow, 'agent_id' | 'organization_id' | 'status' | 'expires_at'> | undefined> {
  return tx<DbSessionRow>('sessions').where({ id }).first('agent_id', 'organization_id', 'status', 'expires_at');
}

/**
 * Counts one operation, exactly, under any concurrency: the row lock serializes the increments and
 * the WHERE clause refuses the one past the budget, after expiry, or once the session is over.
 * The last operation of a budget marks the session exhausted.
 */
export async function consumeOperation(tx: Tx, orgId: string, id: string, now: Date): Promise<DbSessionRow | undefined> {
  const r = await tx.raw(
    `update sessions
        set operations_used = operations_used + 1,
            status = case when max_operations is not null and operations_used + 1 >= max_operations then 'exhausted' else status end
      where organization_id = ? and id = ? and status = 'active' and expires_at > ?
        and (max_operations is null or operations_used < max_operations)
      returning *`,
    [orgId, id, now],
  );
  return r.rows[0] as DbSessionRow | undefined;
}

/** Ends a session that is not ended yet; `agentId` restricts it to that agent's sessions. */
export async function endSession(tx: Tx, orgId: string, id: string, at: Date, reason: string, agentId?: string): Promise<DbSessionRow | undefined> {
  const q = tx<DbSessionRow>('sessions').where({ organization_id: orgId, id }).whereNot('status', 'ended');
  if (agentId) q.andWhere('agent_id', agentId);
  const rows = await q.update({ status: 'ended', ended_at: at, end_reason: reason }).returning('*');
  return rows[0];
}

/**
 * Ends the open sessions that live inside the access token `parentJti`: the ones it opened and the
 * ones whose token it renewed; returns their ids.
 */
export async function endSessionsByParent(tx: Tx, orgId: string, parentJti: string, at: Date, reason: string): Promise<{ id: string; agent_id: string }[]> {
  // A union of two index lookups (sessions_parent_jti_idx, session_renewals_jti_idx), not an OR
  // that would read every session of the organization.
  const r = await tx.raw(
    `update sessions set status = 'ended', ended_at = ?, end_reason = ?
      where organization_id = ? and status <> 'ended'
        and id in (select id from sessions where organization_id = ? and parent_jti = ?
                   union select session_id from session_renewals where organization_id = ? and jti = ?)
      returning id, agent_id`,
    [at, reason, orgId, orgId, parentJti, orgId, parentJti],
  );
  return r.rows as { id: string; agent_id: string }[];
}

/** Records that the session's token was renewed with the access token `row.jti` (once per token). */
export async function insertSessionRenewal(tx: Tx, row: DbSessionRenewalRow): Promise<void> {
  await tx('session_renewals').insert(row).onConflict(['session_id', 'jti']).ignore();
}

export interface SessionAgentRow {
  status: AgentStatus;
  status_changed_at: Date;
  scopes: string[];
}

/**
 * Share-locks the agent row and reads its status and current scopes: waits for a concurrent
 * status or scope change to commit, and holds it off until this transaction commits.
 */
export async function getAgentForShare(tx: Knex.Transaction, orgId: string, agentId: string): Promise<SessionAgentRow | undefined> {
  return (await tx('agents').where({ organization_id: orgId, id: agentId }).forShare().first('status', 'status_changed_at', 'scopes')) as SessionAgentRow | undefined;
}

/** Ends every session of an agent that is not ended yet; returns their ids. */
export async function endAgentSessions(tx: Tx, agentId: string, at: Date, reason: string): Promise<string[]> {
  const rows = await tx('sessions').where({ agent_id: agentId }).whereNot('status', 'ended')
    .update({ status: 'ended', ended_at: at, end_reason: reason }).returning('id');
  return rows.map((r: { id: string }) => r.id);
}

export type SessionStatusFilter = SessionStatus;

export interface SessionFilter {
  agentId?: string;
  /** Only this session (a session token sees its own session only). */
  sessionId?: string;
  status?: SessionStatusFilter;
  afterId?: string;
  now: Date;
  limit: number;
}

/**
 * Keyset page ordered by id (UUIDv7, creation order).
 *
 * `status=active` (live) reads the live sessions through their partial index (sessions_live_idx)
 * and sorts them, always: left to choose, PostgreSQL takes a small `limit` as the cue to walk the
 * organization's sessions in id order instead, expecting an early match, but the live sessions are
 * the newest, so that walk reads every not-yet-swept session first, a cost that grows with the
 * organization. The fenced read costs the number of live sessions, whatever the page size.
 */
export async function listSessions(tx: Tx, orgId: string, f: SessionFilter): Promise<DbSessionRow[]> {
  if (f.status === 'active') {
    const live = tx<DbSessionRow>('sessions').where({ organization_id: orgId, status: 'active' }).andWhere('expires_at', '>', f.now);
    if (f.agentId) live.andWhere('agent_id', f.agentId);
    if (f.sessionId) live.andWhere('id', f.sessionId);
    if (f.afterId) live.andWhere('id', '>', f.afterId);
    return tx.withMaterialized('live', live).select('*').from<DbSessionRow>('live').orderBy('id', 'asc').limit(f.limit);
  }
  const q = tx<DbSessionRow>('sessions').where({ organization_id: orgId });
  if (f.agentId) q.andWhere('agent_id', f.agentId);
  if (f.sessionId) q.andWhere('id', f.sessionId);
  if (f.status === 'expired') q.andWhere('status', 'active').andWhere('expires_at', '<=', f.now);
  if (f.status === 'exhausted' || f.status === 'ended') q.andWhere('status', f.status);
  if (f.afterId) q.andWhere('id', '>', f.afterId);
  return q.orderBy('id', 'asc').limit(f.limit);
}

/**
 * Deletes up to `limit` sessions that were over before `before`: ended (ended_at) or past their
 * expiry, whichever came first (an exhausted session counts from its expiry). Uses the
 * expression index sessions_over_idx. Returns how many rows were deleted.
 */
export async function deleteSessionsOverBefore(tx: Tx, before: Date, limit: number): Promise<number> {
  const r = await tx.raw(
    `delete from sessions where id in (
       select id from sessions where least(ended_at, expires_at) < ? order by least(ended_at, expires_at) limit ?
     ) returning id`,
    [before, limit],
  );
  return (r.rows as unknown[]).length;
}
