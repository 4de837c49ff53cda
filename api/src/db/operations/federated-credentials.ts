/**
 * Federated-credential queries: one function per query, each taking the knex handle or
 * transaction to run on. Credentials are read and changed under their agent's row lock (taken by
 * the caller), in the lock order agent row → credential rows, as keys are.
 */
import type { Knex } from 'knex';
import type { DbAgentFederatedCredentialRow } from '../tables';
import type { AgentStatus } from '../../../../model/statuses';

type Tx = Knex | Knex.Transaction;

const TABLE = 'agent_federated_credentials';

function toColumns(r: DbAgentFederatedCredentialRow): Record<string, unknown> {
  return { ...r, claims: JSON.stringify(r.claims), jwks: r.jwks === null ? null : JSON.stringify(r.jwks) };
}

/** Inserts credentials in one statement. */
export async function insertFederatedCredentials(tx: Tx, rows: DbAgentFederatedCredentialRow[]): Promise<void> {
  if (rows.length) await tx(TABLE).insert(rows.map(toColumns));
}

/** An agent's credentials, active and removed, oldest first. */
export async function listFederatedCredentials(tx: Tx, agentId: string): Promise<DbAgentFederatedCredentialRow[]> {
  return tx<DbAgentFederatedCredentialRow>(TABLE).where({ agent_id: agentId }).orderBy([{ column: 'created_at' }, { column: 'id' }]);
}

export async function countActiveFederatedCredentials(tx: Tx, agentId: string): Promise<number> {
  const r = await tx(TABLE).where({ agent_id: agentId }).whereNull('revoked_at').count<{ n: string | number }[]>({ n: '*' });
  return Number(r[0]?.n ?? 0);
}

export async function revokeFederatedCredential(tx: Tx, agentId: string, id: string, at: Date): Promise<number> {
  return tx(TABLE).where({ agent_id: agentId, id }).whereNull('revoked_at').update({ revoked_at: at });
}

export interface AgentFederationRow {
  id: string;
  organization_id: string;
  status: AgentStatus;
  scopes: string[];
  /** Active federated credentials. */
  credentials: (Pick<DbAgentFederatedCredentialRow, 'id' | 'issuer' | 'subject' | 'audience' | 'claims' | 'jwks'> & { seal: string | null })[];
}

/** An agent with its active federated credentials, in one round trip (the federated token request's read). */
export async function getAgentFederation(tx: Tx, agentId: string): Promise<AgentFederationRow | undefined> {
  const r = await tx.raw(
    `select a.id, a.organization_id, a.status, a.scopes,
            coalesce((select json_agg(json_build_object('id', f.id, 'issuer', f.issuer, 'subject', f.subject, 'audience', f.audience, 'claims', f.claims, 'jwks', f.jwks, 'seal', encode(f.seal, 'hex'))
                                      order by f.created_at, f.id)
                        from ${TABLE} f where f.agent_id = a.id and f.revoked_at is null), '[]'::json) as credentials
       from agents a where a.id = ?`,
    [agentId],
  );
  return r.rows[0] as AgentFederationRow | undefined;
}
