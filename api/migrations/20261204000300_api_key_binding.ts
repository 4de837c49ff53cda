/**
 * API keys bound to their organization and role: `api_keys.binding`, an HMAC under the API-key
 * pepper over (organization_id, role, key_hash), checked on every authentication. Before it, the
 * stored HMAC covered the key alone, so a database writer holding any API key could move its row
 * to another organization or raise its role.
 *
 * Existing rows are bound as they are now: the binding needs only the stored key hash, not the
 * key, so every key keeps working. That needs the master key: the migration refuses to run without
 * it when any API key exists (a fresh database needs none). A row bound here was trusted as it
 * stood at migration time; one a writer had already moved stays moved (check `GET /v1/api-keys`
 * of each organization before upgrading if that matters).
 */
import type { Knex } from 'knex';
import { apiKeyBinding } from '../src/crypto/api-keys';
import type { MigrationContext } from '../src/db/migrate';

export async function up(knex: Knex, ctx: MigrationContext = {}): Promise<void> {
  await knex.schema.alterTable('api_keys', (t) => {
    t.binary('binding').nullable().comment('HMAC-SHA256 under the API-key pepper over (organization_id, role, key_hash): a row moved to another organization or role no longer authenticates');
  });
  const rows = (await knex('api_keys').select('id', 'organization_id', 'role', 'key_hash').orderBy('id')) as { id: string; organization_id: string; role: string; key_hash: Buffer }[];
  if (rows.length > 0 && !ctx.keys) {
    throw new Error(
      `Migration 20261204000300_api_key_binding binds the ${rows.length} existing API key(s) with the master key, and this process has none: ` +
        "run it with the server's CERTUSORDO_MASTER_KEY set (certusordo migrate or certusordo serve)",
    );
  }
  for (const r of rows) {
    await knex('api_keys').where({ id: r.id }).update({ binding: apiKeyBinding(ctx.keys!.apiKeyPepper, { ...r, key_hash: Buffer.from(r.key_hash) }) });
  }
  await knex.schema.alterTable('api_keys', (t) => {
    t.binary('binding').notNullable().alter();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_keys', (t) => {
    t.dropColumn('binding');
  });
}
