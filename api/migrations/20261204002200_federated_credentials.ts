/**
 * Federated credentials: an agent may trust one external workload's platform token (its issuer,
 * subject, audience and further claims) instead of, or beside, holding a key. A removed credential
 * keeps its row with `revoked_at` set, as a removed key does, so the audit trail can name it.
 *
 * Every insert, removal or deletion notifies `credentials:<agent id>` on the auth channel, as key
 * changes do, so every replica's token-endpoint cache drops the agent at the commit.
 *
 * Expand-only: a new table and trigger, nothing existing is rewritten; replicas still on the
 * previous version ignore the table (their agents without keys do not exist yet).
 */
import type { Knex } from 'knex';
import { AUTH_CHANNEL } from './20261125100000_auth';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('agent_federated_credentials', (t) => {
    t.comment('External workloads whose platform tokens (JWTs of another issuer) authenticate an agent without a stored secret.');
    t.uuid('id').primary({ constraintName: 'agent_federated_credentials_pk' }).comment('UUIDv7');
    t.uuid('agent_id').notNullable().references('id').inTable('agents').onDelete('CASCADE').withKeyName('agent_federated_credentials_agent_fk');
    t.uuid('organization_id').notNullable().references('id').inTable('organizations').onDelete('CASCADE')
      .withKeyName('agent_federated_credentials_organization_fk').comment('The agent\'s organization (tenancy filter without a join)');
    t.text('issuer').notNullable().comment('The platform token\'s iss, an https URL');
    t.text('subject').notNullable().comment('The platform token\'s sub');
    t.text('audience').notNullable().comment('A value the platform token\'s aud must contain');
    t.jsonb('claims').notNullable().defaultTo('{}').comment('Further top-level claims the token must carry with these exact JSON values');
    t.jsonb('jwks').nullable().comment('The issuer\'s public keys inline (JWK Set); null: fetched by OpenID discovery');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true }).nullable().comment('When it was removed; null while active');
    t.binary('seal').notNullable().comment('HMAC under the master key over organization, agent and what the credential trusts (crypto/agent-key-seal.ts): a row written outside the control plane authenticates nobody');
    t.index(['agent_id', 'created_at'], 'agent_federated_credentials_agent_idx');
  });
  await knex.raw(`alter table agent_federated_credentials add constraint agent_federated_credentials_claims_chk check (jsonb_typeof(claims) = 'object')`);
  await knex.raw(`alter table agent_federated_credentials add constraint agent_federated_credentials_jwks_chk check (jwks is null or coalesce(jsonb_typeof(jwks -> 'keys'), '') = 'array')`);
  await knex.raw(`alter table agent_federated_credentials add constraint agent_federated_credentials_issuer_chk check (issuer like 'https://%')`);
  await knex.raw(`
    create function auth_notify_federated_credentials() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${AUTH_CHANNEL}', 'credentials:' || (case when tg_op = 'DELETE' then old.agent_id else new.agent_id end)::text);
      return null;
    end $$`);
  await knex.raw(`create trigger agent_federated_credentials_notify after insert or update or delete on agent_federated_credentials for each row execute function auth_notify_federated_credentials()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists agent_federated_credentials cascade');
  await knex.raw('drop function if exists auth_notify_federated_credentials()');
}
