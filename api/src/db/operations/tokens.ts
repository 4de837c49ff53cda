/**
 * Token-endpoint, revocation and introspection queries: one function per query, each taking the
 * knex handle or transaction to run on.
 */
import type { Knex } from 'knex';
import type { DbAuditEventRow, DbRevokedTokenRow } from '../tables';
import { auditEventsInsert } from './audit';
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
  const authorize = authorizeCtes(items, at);
  const r = await tx.raw(
    `with ${authorize.sql}
     select (select coalesce(json_agg(locked), '[]'::json) from locked) as agents,
            (select coalesce(json_agg(keys), '[]'::json) from keys) as keys,
            (select coalesce(json_agg(used), '[]'::json) from used) as jtis,
            (select coalesce(json_agg(federated), '[]'::json) from federated) as federated`,
    authorize.bindings,
  ).options({ name: 'certusordo_authorize_batch' });
  return r.rows[0] as AuthorizeResult;
}

/** authorizeBatch's work as common table expressions (req, locked, keys, federated, used, stamped). */
function authorizeCtes(items: readonly AuthorizeItem[], at: Date): { sql: string; bindings: Knex.Value[] } {
  const agentIds = [...new Set(items.map((i) => i.agent_id))].sort();
  return {
    sql: `req as (
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
     )`,
    bindings: [items.map((i) => i.agent_id), items.map((i) => i.kid), items.map((i) => i.jti), items.map((i) => i.expires_at), items.map((i) => i.federated_credential_id ?? null) as string[], agentIds, at, at],
  };
}

/** What a speculative batch assumed of each agent (see authorizeAndAppend). */
export interface AgentExpectation {
  agent_id: string;
  /** The agent's scopes exactly as the requests were checked against. */
  scopes: string[];
}

/** A chain head swap: from the head the events were linked onto, to the head after them. */
export interface HeadSwap {
  organization_id: string;
  before: { last_seq: number; last_hash: string };
  after: { last_seq: number; last_hash: string };
}

/**
 * authorizeBatch and the batch's audit append in one statement, when every request is expected to
 * pass: it commits everything only if every agent is still active with the expected scopes and a
 * status unchanged since `at`, every key or federated credential is still active, every assertion
 * id is new, and every chain head is still the one the events were linked onto (each is swapped to
 * its new value); otherwise certusordo_speculation_holds raises (isSpeculationRefused) and nothing
 * is written. One round trip and one implicit transaction instead of five statements; its text is
 * the same for every batch, so it runs as a named prepared statement (planned once per connection).
 *
 * The final select is what decides, and it reads `checked` (which reads `locked`: the agent row
 * locks come first) and `heads` (the head swaps, which wait for `checked`); the unreferenced
 * writes (the events, the stamps) run after it, so a refusal stops the statement before them.
 */
export async function authorizeAndAppend(
  db: Knex,
  items: readonly AuthorizeItem[],
  expected: readonly AgentExpectation[],
  at: Date,
  rows: readonly DbAuditEventRow[],
  heads: readonly HeadSwap[],
): Promise<void> {
  const events = auditEventsInsert(rows);
  const keyPairs = new Set(items.filter((i) => !i.federated_credential_id).map((i) => `${i.agent_id} ${i.kid}`)).size;
  const credentialPairs = new Set(items.filter((i) => i.federated_credential_id).map((i) => `${i.agent_id} ${i.federated_credential_id}`)).size;
  const jtis = new Set(items.filter((i) => !i.federated_credential_id).map((i) => `${i.agent_id} ${i.jti}`)).size;
  const authorize = authorizeCtes(items, at);
  await db.raw(
    `with ${authorize.sql}, expected as (
       select * from unnest(?::uuid[], ?::jsonb[]) as e(agent_id, scopes)
     ), checked as materialized (
       select (select count(*) from locked) = (select count(*) from expected)
          and not exists (select 1 from expected e left join locked l on l.id = e.agent_id
                           where l.id is null or to_jsonb(l.scopes) <> e.scopes or l.status_changed_at > ?::timestamptz)
          and (select count(*) from keys) = ?::int
          and (select count(*) from federated) = ?::int
          and (select count(*) from used) = ?::int as ok
     ), heads as (
       update audit_chain_heads h set last_seq = u.new_seq, last_hash = u.new_hash
         from unnest(?::uuid[], ?::bigint[], ?::text[], ?::bigint[], ?::text[]) as u(organization_id, old_seq, old_hash, new_seq, new_hash)
        where h.organization_id = u.organization_id and h.last_seq = u.old_seq and h.last_hash = u.old_hash
          and (select ok from checked)
        returning h.organization_id
     ), events as (${events.sql})
     select certusordo_speculation_holds((select ok from checked) and (select count(*) from heads) = ?::int) as ok`,
    [
      ...authorize.bindings,
      expected.map((e) => e.agent_id), expected.map((e) => JSON.stringify(e.scopes)), at,
      keyPairs, credentialPairs, jtis,
      heads.map((h) => h.organization_id), heads.map((h) => h.before.last_seq), heads.map((h) => h.before.last_hash),
      heads.map((h) => h.after.last_seq), heads.map((h) => h.after.last_hash),
      ...events.bindings,
      heads.length,
    ],
  ).options({ name: 'certusordo_authorize_and_append' });
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

