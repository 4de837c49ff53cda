/**
 * Token-endpoint, revocation and introspection queries: one function per query, each taking the
 * knex handle or transaction to run on.
 */
import type { Knex } from 'knex';
import type { DbRevokedTokenRow } from '../tables';
import type { AgentStatus } from '../../../../model/statuses';

type Tx = Knex | Knex.Transaction;

export interface AgentCredentialsRow {
  id: string;
  organization_id: string;
  status: AgentStatus;
  scopes: string[];
  /** Active keys: [{kid, x, seal}] with x the base64url public key and seal its hex seal (null: none). */
  keys: { kid: string; x: string; seal: string | null }[];
}

/** An agent with its active public keys, in one round trip (the token endpoint's only read). */
export async function getAgentCredentials(tx: Tx, agentId: string): Promise<AgentCredentialsRow | undefined> {
  const r = await tx.raw(
    `select a.id, a.organization_id, a.status, a.scopes,
            coalesce((select json_agg(json_build_object('kid', k.kid, 'x', translate(trim(trailing '=' from encode(k.public_key, 'base64')), '+/', '-_'), 'seal', encode(k.seal, 'hex'))
                                      order by k.created_at desc, k.kid)
                        from agent_keys k where k.agent_id = a.id and k.revoked_at is null), '[]'::json) as keys
       from agents a where a.id = ?`,
    [agentId],
  );
  return r.rows[0] as AgentCredentialsRow | undefined;
}

export interface AuthorizeItem {
  agent_id: string;
  kid: string;
  jti: string;
  expires_at: Date;
  /** A platform token's federated credential: it is checked instead of `kid`, and `jti` is not recorded. */
  federated_credential_id?: string | null;
}

export interface AuthorizeResult {
  /** Agents still active, now locked (until commit). */
  agents: { id: string; organization_id: string; status_changed_at: string; scopes: string[] }[];
  /** (agent, kid) pairs of the batch whose key is still active. */
  keys: { agent_id: string; kid: string }[];
  /** (agent, jti) pairs recorded now; the batch's other pairs are replays. */
  jtis: { agent_id: string; jti: string }[];
  /** (agent, federated credential) pairs of the batch whose credential is still active. */
  federated: { agent_id: string; id: string }[];
}

/**
 * The token endpoint's batch authorization, in one statement: lock the batch's active agents in id
 * order (a fixed order, so concurrent batches cannot deadlock); check the keys used are still
 * active; record the assertion ids (single use) of the active agents' requests; stamp last_auth_at
 * (and, the first time, first_auth_at: rewriting its own value keeps later updates HOT) on the
 * agents with a request that passed both (an active key and a jti not used before), so a refused
 * request never counts as activity. Holding the agent row locks until commit orders the batch
 * before any concurrent suspension or key removal of those agents.
 *
 * A platform token's item (federated_credential_id set) checks its federated credential the same
 * way instead of a key, records no jti, and stamps its agent when the credential is active.
 *
 * The key rows are share-locked after their agent's row (the join through `locked`): a key
 * removal that committed while this statement waited for the agent lock is invisible to the
 * statement's snapshot, but FOR SHARE under READ COMMITTED re-reads the newest version of each
 * key row and re-checks `revoked_at is null` on it. Lock order agent row → key rows, as in
 * AgentService.removeKey/addKey.
 */
export async function authorizeBatch(tx: Knex.Transaction, items: AuthorizeItem[], at: Date): Promise<AuthorizeResult> {
  const agentIds = [...new Set(items.map((i) => i.agent_id))].sort();
  const r = await tx.raw(
    `with req as (
       select * from unnest(?::uuid[], ?::text[], ?::text[], ?::timestamptz[], ?::uuid[]) as r(agent_id, kid, jti, expires_at, fcid)
     ), locked as materialized (
       select id, organization_id, status_changed_at, scopes from agents
        where id = any(?::uuid[]) and status = 'active' order by id for update
     ), keys as (
       select k.agent_id, k.kid from agent_keys k join locked l on l.id = k.agent_id
        where k.revoked_at is null and (k.agent_id, k.kid) in (select agent_id, kid from req where fcid is null)
        for share of k
     ), federated as (
       select f.agent_id, f.id from agent_federated_credentials f join locked l on l.id = f.agent_id
        where f.revoked_at is null and (f.agent_id, f.id) in (select agent_id, fcid from req where fcid is not null)
        for share of f
     ), used as (
       insert into assertion_jtis (agent_id, jti, expires_at)
       select distinct on (agent_id, jti) agent_id, jti, expires_at from req where fcid is null and agent_id in (select id from locked)
       on conflict on constraint assertion_jtis_pk do nothing
       returning agent_id, jti
     ), stamped as (
       update agents a set last_auth_at = ?, first_auth_at = coalesce(a.first_auth_at, ?)
        where a.id in (select r.agent_id from req r join used u on u.agent_id = r.agent_id and u.jti = r.jti
                                               join keys k on k.agent_id = r.agent_id and k.kid = r.kid
                       union select f.agent_id from federated f)
     )
     select (select coalesce(json_agg(locked), '[]'::json) from locked) as agents,
            (select coalesce(json_agg(keys), '[]'::json) from keys) as keys,
            (select coalesce(json_agg(used), '[]'::json) from used) as jtis,
            (select coalesce(json_agg(federated), '[]'::json) from federated) as federated`,
    [items.map((i) => i.agent_id), items.map((i) => i.kid), items.map((i) => i.jti), items.map((i) => i.expires_at), items.map((i) => i.federated_credential_id ?? null) as string[], agentIds, at, at],
  );
  return r.rows[0] as AuthorizeResult;
}

export async function deleteExpiredAssertionJtis(tx: Tx, before: Date): Promise<number> {
  return tx('assertion_jtis').where('expires_at', '<', before).delete();
}

export async function insertRevokedToken(tx: Tx, row: DbRevokedTokenRow): Promise<boolean> {
  const r = await tx('revoked_tokens').insert(row).onConflict('jti').ignore().returning('jti');
  return r.length > 0;
}

export async function isTokenRevoked(tx: Tx, jti: string): Promise<boolean> {
  return (await tx('revoked_tokens').where({ jti }).first('jti')) !== undefined;
}

export async function listUnexpiredRevokedTokens(tx: Tx, now: Date, limit: number): Promise<{ jti: string; expires_at: Date }[]> {
  return tx('revoked_tokens').where('expires_at', '>', now).select('jti', 'expires_at').limit(limit);
}

export async function deleteExpiredRevokedTokens(tx: Tx, before: Date): Promise<number> {
  return tx('revoked_tokens').where('expires_at', '<', before).delete();
}

export interface AgentStateRow {
  organization_id: string;
  status: AgentStatus;
  status_changed_at: Date;
  scopes: string[];
}

export async function getAgentState(tx: Tx, agentId: string): Promise<AgentStateRow | undefined> {
  return (await tx('agents').where({ id: agentId }).first('organization_id', 'status', 'status_changed_at', 'scopes')) as AgentStateRow | undefined;
}

