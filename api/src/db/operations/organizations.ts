/** Organization and API-key queries. */
import type { Knex } from 'knex';
import type { DbApiKeyRow, DbOrganizationRow } from '../tables';

type Tx = Knex | Knex.Transaction;

export async function insertOrganization(tx: Tx, row: DbOrganizationRow): Promise<void> {
  await tx('organizations').insert(row);
}

/** Serializes first-start bootstraps of replicas starting together (held until the transaction ends). */
export async function lockBootstrap(tx: Tx): Promise<void> {
  await tx.raw(`select pg_advisory_xact_lock(hashtext('certusordo.bootstrap'))`);
}

export async function countOrganizations(tx: Tx): Promise<number> {
  const r = await tx('organizations').count<{ count: string }[]>('* as count');
  return Number(r[0]?.count ?? 0);
}

export async function getOrganization(tx: Tx, id: string): Promise<DbOrganizationRow | undefined> {
  return tx<DbOrganizationRow>('organizations').where({ id }).first();
}

/**
 * Serializes changes to the organization's set of API keys (held until the transaction ends).
 * NO KEY UPDATE, not UPDATE: it must not block the KEY SHARE locks that inserts referencing the
 * organization take (an audit append holding the chain head would otherwise deadlock with it).
 */
export async function lockOrganization(tx: Knex.Transaction, id: string): Promise<boolean> {
  const row = await tx('organizations').where({ id }).forNoKeyUpdate().first('id');
  return row !== undefined;
}

export async function countActiveAdminKeys(tx: Tx, orgId: string): Promise<number> {
  const r = await tx('api_keys').where({ organization_id: orgId, role: 'admin' }).whereNull('revoked_at').count<{ count: string }[]>('* as count');
  return Number(r[0]?.count ?? 0);
}

/** Inserts the key unless its prefix is taken (inserted: false). */
export async function insertApiKey(tx: Tx, row: DbApiKeyRow): Promise<{ inserted: boolean }> {
  const r = await tx('api_keys').insert(row).onConflict('prefix').ignore().returning('id');
  return { inserted: r.length > 0 };
}

export async function findApiKeyByPrefix(tx: Tx, prefix: string): Promise<DbApiKeyRow | undefined> {
  return tx<DbApiKeyRow>('api_keys').where({ prefix }).first();
}

export async function listApiKeys(tx: Tx, orgId: string): Promise<DbApiKeyRow[]> {
  return tx<DbApiKeyRow>('api_keys').where({ organization_id: orgId }).orderBy([{ column: 'created_at' }, { column: 'id' }]);
}

/** The names and roles of the organization's keys among `ids` (never a hash or prefix). */
export async function listApiKeyNames(tx: Tx, orgId: string, ids: readonly string[]): Promise<Pick<DbApiKeyRow, 'id' | 'name' | 'role' | 'revoked_at'>[]> {
  return tx<DbApiKeyRow>('api_keys').where({ organization_id: orgId }).whereIn('id', ids).orderBy('id').select('id', 'name', 'role', 'revoked_at');
}

export async function getApiKey(tx: Tx, orgId: string, id: string): Promise<DbApiKeyRow | undefined> {
  return tx<DbApiKeyRow>('api_keys').where({ organization_id: orgId, id }).first();
}

export async function revokeApiKey(tx: Tx, orgId: string, id: string, at: Date): Promise<number> {
  return tx('api_keys').where({ organization_id: orgId, id }).whereNull('revoked_at').update({ revoked_at: at });
}

export async function touchApiKey(tx: Tx, id: string, at: Date): Promise<void> {
  await tx('api_keys').where({ id }).update({ last_used_at: at });
}
