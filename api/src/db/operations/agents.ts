/** Agent queries: one function per query, each taking the knex handle or transaction to run on. */
import type { Knex } from 'knex';
import type { DbAgentKeyRow, DbAgentRow, DbAgentWithKeyRow } from '../tables';
import { isUniqueViolation } from '../errors';

type Tx = Knex | Knex.Transaction;

/** The newest active key of each agent, as a correlated subquery (indexed by agent_keys_pk). */
const NEWEST_KEY_SQL = 'select k.public_key from agent_keys k where k.agent_id = a.id and k.revoked_at is null order by k.created_at desc, k.kid limit 1';
/** The agent's `may_act` (actor ids in id order), as a correlated subquery (indexed by agent_delegations_pk). */
const MAY_ACT_SQL = `select coalesce(json_agg(d.actor_agent_id order by d.actor_agent_id), '[]'::json) from agent_delegations d where d.subject_agent_id = a.id`;

function withPublicKey(tx: Tx) {
  return tx<DbAgentWithKeyRow>('agents as a').select('a.*', tx.raw(`(${NEWEST_KEY_SQL}) as public_key`), tx.raw(`(${MAY_ACT_SQL}) as may_act`));
}

/**
 * Inserts a new agent and its first key in one statement (one round trip instead of two). The
 * key's foreign key is checked at the end of the statement, when the agent row exists. A name
 * already taken by a live agent (agents_live_name_uniq) inserts nothing and answers
 * `{ inserted: false }`; the transaction is then aborted, so the caller must end it.
 */
export async function insertAgentWithKey(tx: Tx, agent: DbAgentRow, key: DbAgentKeyRow): Promise<{ inserted: boolean }> {
  try {
    await insertAgentWithKeyStatement(tx, agent, key);
    return { inserted: true };
  } catch (err) {
    if (isUniqueViolation(err)) return { inserted: false };
    throw err;
  }
}

async function insertAgentWithKeyStatement(tx: Tx, agent: DbAgentRow, key: DbAgentKeyRow): Promise<void> {
  await tx.raw(
    `with agent as (
       insert into agents (id, organization_id, name, scopes, status, metadata, created_at, updated_at, last_auth_at, status_changed_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     )
     insert into agent_keys (agent_id, kid, public_key, seal, created_at, revoked_at) values (?, ?, ?, ?, ?, ?)`,
    [
      agent.id, agent.organization_id, agent.name, JSON.stringify(agent.scopes), agent.status, JSON.stringify(agent.metadata),
      agent.created_at, agent.updated_at, agent.last_auth_at, agent.status_changed_at,
      key.agent_id, key.kid, key.public_key, key.seal, key.created_at, key.revoked_at,
    ],
  );
}

/**
 * Inserts a new agent without a key (it authenticates with federated credentials, inserted by the
 * caller in the same transaction); `{ inserted: false }` when the name is taken by a live agent (the
 * transaction is then aborted, so the caller must end it).
 */
export async function insertAgent(tx: Tx, agent: DbAgentRow): Promise<{ inserted: boolean }> {
  try {
    await tx('agents').insert({ ...agent, scopes: JSON.stringify(agent.scopes), metadata: JSON.stringify(agent.metadata) });
    return { inserted: true };
  } catch (err) {
    if (isUniqueViolation(err)) return { inserted: false };
    throw err;
  }
}

/**
 * One agent with its newest active key: the hottest read of the API, so its SQL is written once
 * (no query building per call) and runs as a named prepared statement, which PostgreSQL parses
 * and plans once per connection instead of on every call.
 */
const GET_AGENT_SQL = `select a.*, (${NEWEST_KEY_SQL}) as public_key, (${MAY_ACT_SQL}) as may_act from agents a where a.organization_id = ? and a.id = ? limit 1`;

export async function getAgent(tx: Tx, orgId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<DbAgentWithKeyRow | undefined> {
  if (opts.forUpdate) {
    // Lock the agent row first (FOR UPDATE cannot apply to the aggregate subquery), then read it with its key.
    const locked = await tx('agents').where({ organization_id: orgId, id }).forUpdate().first('id');
    if (!locked) return undefined;
  }
  const r = await tx.raw<{ rows: DbAgentWithKeyRow[] }>(GET_AGENT_SQL, [orgId, id]).options({ name: 'certusordo_get_agent' });
  return r.rows[0];
}

export interface AgentFilter {
  status?: string;
  name?: string;
  namePrefix?: string;
  neverAuthenticated?: boolean;
  inactiveSince?: Date;
  /** Only these ids (well-formed UUIDs, at most a page's worth). */
  ids?: readonly string[];
  afterId?: string;
  limit: number;
}

/** Keyset page ordered by id (UUIDv7, so creation order); cost is independent of the offset. */
export async function listAgents(tx: Tx, orgId: string, f: AgentFilter): Promise<DbAgentWithKeyRow[]> {
  const q = withPublicKey(tx).where('a.organization_id', orgId);
  if (f.status) q.where('a.status', f.status);
  if (f.name !== undefined) q.where('a.name', f.name);
  if (f.namePrefix !== undefined) q.whereRaw(`a.name like ? escape '\\'`, [f.namePrefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%']);
  if (f.neverAuthenticated) q.whereNull('a.first_auth_at'); // agents_never_authenticated_idx
  if (f.inactiveSince) q.where((w) => w.whereNull('a.last_auth_at').orWhere('a.last_auth_at', '<', f.inactiveSince!));
  if (f.ids) q.whereIn('a.id', f.ids);
  if (f.afterId) q.where('a.id', '>', f.afterId);
  return q.orderBy('a.id', 'asc').limit(f.limit);
}

/**
 * Changes an agent's editable fields; `{ updated: false }` when the new name is taken by a live
 * agent (the transaction is then aborted, so the caller must end it).
 */
export async function updateAgentFields(
  tx: Tx,
  orgId: string,
  id: string,
  patch: Partial<Pick<DbAgentRow, 'name' | 'scopes' | 'metadata' | 'updated_at'>>,
): Promise<{ updated: boolean }> {
  try {
    await updateAgent(tx, orgId, id, patch);
    return { updated: true };
  } catch (err) {
    if (isUniqueViolation(err)) return { updated: false };
    throw err;
  }
}

export async function updateAgent(
  tx: Tx,
  orgId: string,
  id: string,
  patch: Partial<Pick<DbAgentRow, 'name' | 'scopes' | 'metadata' | 'status' | 'updated_at' | 'status_changed_at' | 'last_auth_at'>>,
): Promise<number> {
  const values: Record<string, unknown> = { ...patch };
  if (patch.scopes) values.scopes = JSON.stringify(patch.scopes);
  if (patch.metadata) values.metadata = JSON.stringify(patch.metadata);
  return tx('agents').where({ organization_id: orgId, id }).update(values);
}

export async function insertAgentKey(tx: Tx, row: DbAgentKeyRow): Promise<void> {
  await tx('agent_keys').insert(row);
}

export async function listAgentKeys(tx: Tx, agentId: string): Promise<DbAgentKeyRow[]> {
  return tx<DbAgentKeyRow>('agent_keys').where({ agent_id: agentId }).orderBy([{ column: 'created_at' }, { column: 'kid' }]);
}

export async function revokeAgentKey(tx: Tx, agentId: string, kid: string, at: Date): Promise<number> {
  return tx('agent_keys').where({ agent_id: agentId, kid }).whereNull('revoked_at').update({ revoked_at: at });
}
