/**
 * Token-endpoint, revocation and introspection queries: one function per query, each taking the
 * knex handle or transaction to run on.
 */
import type { Knex } from 'knex';
import type { DbAuditEventRow, DbRevokedTokenRow } from '../tables';

type Tx = Knex | Knex.Transaction;

export interface AgentCredentialsRow {
  id: string;
  organization_id: string;
  status: 'active' | 'suspended' | 'revoked';
  scopes: string[];
  /** Active keys: [{kid, x}] with x the base64url public key. */
  keys: { kid: string; x: string }[];
}

/** An agent with its active public keys, in one round trip (the token endpoint's only read). */
export async function getAgentCredentials(tx: Tx, agentId: string): Promise<AgentCredentialsRow | undefined> {
  const r = await tx.raw(
    `select a.id, a.organization_id, a.status, a.scopes,
            coalesce((select json_agg(json_build_object('kid', k.kid, 'x', translate(trim(trailing '=' from encode(k.public_key, 'base64')), '+/', '-_'))
                                      order by k.created_at desc, k.kid)
                        from agent_keys k where k.agent_id = a.id and k.revoked_at is null), '[]'::json) as keys
       from agents a where a.id = ?`,
    [agentId],
  );
  return r.rows[0] as AgentCredentialsRow | undefined;
}

export interface LockedAgentRow {
  id: string;
  organization_id: string;
  status_changed_at: Date;
}

/**
 * Locks the given agents in id order (a fixed order, so concurrent batches cannot deadlock) and
 * stamps last_auth_at on those still active; returns the stamped ones. Holding these row locks
 * until commit orders the batch before any concurrent suspension of the same agents.
 */
export async function stampActiveAgents(tx: Knex.Transaction, agentIds: string[], at: Date): Promise<LockedAgentRow[]> {
  const r = await tx.raw(
    `update agents a set last_auth_at = ?
       from (select id from agents where id = any(?::uuid[]) and status = 'active' order by id for update) l
      where a.id = l.id
      returning a.id, a.organization_id, a.status_changed_at`,
    [at, agentIds],
  );
  return r.rows as LockedAgentRow[];
}

/** Records assertion ids as used; returns the (agent_id, jti) pairs that were new (the others are replays). */
export async function insertAssertionJtis(tx: Tx, rows: { agent_id: string; jti: string; expires_at: Date }[]): Promise<{ agent_id: string; jti: string }[]> {
  if (rows.length === 0) return [];
  const r = await tx.raw(
    `insert into assertion_jtis (agent_id, jti, expires_at)
     select * from unnest(?::uuid[], ?::text[], ?::timestamptz[])
     on conflict on constraint assertion_jtis_pk do nothing
     returning agent_id, jti`,
    [rows.map((x) => x.agent_id), rows.map((x) => x.jti), rows.map((x) => x.expires_at)],
  );
  return r.rows as { agent_id: string; jti: string }[];
}

export async function deleteExpiredAssertionJtis(tx: Tx, before: Date): Promise<number> {
  return tx('assertion_jtis').where('expires_at', '<', before).delete();
}

/** Several audit events in one statement (the caller computed their chain links under the head lock). */
export async function insertAuditEvents(tx: Knex.Transaction, rows: DbAuditEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx('audit_events').insert(rows.map((row) => ({ ...row, data: JSON.stringify(row.data) })));
}

export async function insertRevokedToken(tx: Tx, row: DbRevokedTokenRow): Promise<boolean> {
  const r = await tx('revoked_tokens').insert(row).onConflict('jti').ignore().returning('jti');
  return r.length > 0;
}

export async function isTokenRevoked(tx: Tx, jti: string): Promise<boolean> {
  return (await tx('revoked_tokens').where({ jti }).first('jti')) !== undefined;
}

export async function listUnexpiredRevokedTokens(tx: Tx, now: Date): Promise<{ jti: string; expires_at: Date }[]> {
  return tx('revoked_tokens').where('expires_at', '>', now).select('jti', 'expires_at');
}

export async function deleteExpiredRevokedTokens(tx: Tx, before: Date): Promise<number> {
  return tx('revoked_tokens').where('expires_at', '<', before).delete();
}

export interface AgentStateRow {
  organization_id: string;
  status: 'active' | 'suspended' | 'revoked';
  status_changed_at: Date;
}

export async function getAgentState(tx: Tx, agentId: string): Promise<AgentStateRow | undefined> {
  return (await tx('agents').where({ id: agentId }).first('organization_id', 'status', 'status_changed_at')) as AgentStateRow | undefined;
}

/** Share-locks the agent row (waits for a concurrent status change to commit) and reads its state. */
export async function getAgentStateForShare(tx: Knex.Transaction, orgId: string, agentId: string): Promise<AgentStateRow | undefined> {
  return (await tx('agents').where({ organization_id: orgId, id: agentId }).forShare().first('organization_id', 'status', 'status_changed_at')) as AgentStateRow | undefined;
}
