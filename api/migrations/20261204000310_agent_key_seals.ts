/**
 * Sealed agent keys: `agent_keys.seal`, an HMAC under a key derived from the master key over the
 * key's organization, agent, kid and public key (crypto/agent-key-seal.ts). The token endpoint
 * ignores a key whose seal does not verify, so a key row written straight into the database (or
 * an agent moved to another organization) mints no token.
 *
 * Existing keys are sealed as they are now, so every agent keeps authenticating. That needs the
 * master key: the migration refuses to run without it when any agent key exists (a fresh database
 * needs none). A key a writer had already inserted before the upgrade is sealed with the rest:
 * list each agent's keys (`GET /v1/agents/{id}/keys`) before upgrading if that matters.
 */
import type { Knex } from 'knex';
import { agentKeySeal } from '../src/crypto/agent-key-seal';
import type { MigrationContext } from '../src/db/migrate';

interface KeyRow {
  agent_id: string;
  kid: string;
  public_key: Buffer;
  organization_id: string;
}

export async function up(knex: Knex, ctx: MigrationContext = {}): Promise<void> {
  await knex.schema.alterTable('agent_keys', (t) => {
    t.binary('seal').nullable().comment('HMAC-SHA256 under the master key\'s agent-key seal over (organization, agent, kid, public key): unsealed keys authenticate nobody');
  });
  const rows = (await knex('agent_keys as k').join('agents as a', 'a.id', 'k.agent_id')
    .select('k.agent_id', 'k.kid', 'k.public_key', 'a.organization_id').orderBy(['k.agent_id', 'k.kid'])) as KeyRow[];
  if (rows.length > 0 && !ctx.keys) {
    throw new Error(
      `Migration 20261204000310_agent_key_seals seals the ${rows.length} existing agent key(s) with the master key, and this process has none: ` +
        "run it with the server's CERTUSORDO_MASTER_KEY set (certusordo migrate or certusordo serve)",
    );
  }
  for (const r of rows) {
    const seal = agentKeySeal(ctx.keys!.agentKeySeal, { ...r, public_key: Buffer.from(r.public_key) });
    await knex('agent_keys').where({ agent_id: r.agent_id, kid: r.kid }).update({ seal });
  }
  await knex.schema.alterTable('agent_keys', (t) => {
    t.binary('seal').notNullable().alter();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agent_keys', (t) => {
    t.dropColumn('seal');
  });
}
