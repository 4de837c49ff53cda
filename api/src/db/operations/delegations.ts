/** Delegation (`may_act`) queries: one function per query, each taking the knex handle or transaction to run on. */
import type { Knex } from 'knex';
import type { AgentStatus } from '../../../../model/statuses';

type Tx = Knex | Knex.Transaction;

export interface LockedAgentRow {
  id: string;
  organization_id: string;
  status: AgentStatus;
}

/**
 * Locks the organization's rows among the given agents in id order (a fixed order, so two
 * concurrent grants A→B and B→A cannot deadlock). Another organization's ids lock and return
 * nothing, like unknown ones: naming them neither holds up that organization's writes nor tells
 * them apart.
 */
export async function lockAgentsInOrder(tx: Knex.Transaction, orgId: string, ids: readonly string[]): Promise<LockedAgentRow[]> {
  const r = await tx.raw<{ rows: LockedAgentRow[] }>(
    'select id, organization_id, status from agents where id = any(?::uuid[]) and organization_id = ? order by id for update',
    [[...new Set(ids)], orgId],
  );
  return r.rows;
}

/** The actors the subject's `may_act` lists, in id order. */
export async function listActors(tx: Tx, subjectId: string): Promise<string[]> {
  const rows = await tx('agent_delegations').where({ subject_agent_id: subjectId }).orderBy('actor_agent_id').select<{ actor_agent_id: string }[]>('actor_agent_id');
  return rows.map((r) => r.actor_agent_id);
}

/** Adds the pairs not present yet; returns the actors added. */
export async function insertDelegations(tx: Tx, orgId: string, subjectId: string, actorIds: readonly string[], at: Date): Promise<string[]> {
  if (actorIds.length === 0) return [];
  const rows = await tx('agent_delegations')
    .insert(actorIds.map((actor) => ({ subject_agent_id: subjectId, actor_agent_id: actor, organization_id: orgId, created_at: at })))
    .onConflict(['subject_agent_id', 'actor_agent_id']).ignore()
    .returning<{ actor_agent_id: string }[]>('actor_agent_id');
  return rows.map((r) => r.actor_agent_id);
}

/** Removes the pairs present; returns the actors removed. */
export async function deleteDelegations(tx: Tx, subjectId: string, actorIds: readonly string[]): Promise<string[]> {
  if (actorIds.length === 0) return [];
  const rows = await tx('agent_delegations').where({ subject_agent_id: subjectId }).whereIn('actor_agent_id', actorIds)
    .delete().returning<{ actor_agent_id: string }[]>('actor_agent_id');
  return rows.map((r) => r.actor_agent_id);
}

/** When the pair's grant was made (delegated tokens issued before it are invalid), or undefined when there is none. */
export async function getDelegationCreatedAt(tx: Tx, subjectId: string, actorId: string): Promise<Date | undefined> {
  const row = await tx('agent_delegations').where({ subject_agent_id: subjectId, actor_agent_id: actorId }).first<{ created_at: Date } | undefined>('created_at');
  return row ? new Date(row.created_at) : undefined;
}
