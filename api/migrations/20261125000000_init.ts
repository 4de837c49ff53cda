/**
 * Initial schema: organizations, API keys, agents and their keys, idempotency records and the
 * append-only, hash-chained audit log. Invariants live in the database, not only in code:
 * status values, revoked-is-terminal, name uniqueness among live agents, audit immutability.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('organizations', (t) => {
    t.comment('Tenants. Every other row belongs to exactly one organization.');
    t.uuid('id').primary({ constraintName: 'organizations_pk' });
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.comment('Admin credentials (aa_...). Only an HMAC-SHA256 of the key (server pepper) is stored.');
    t.uuid('id').primary({ constraintName: 'api_keys_pk' });
    t.uuid('organization_id').notNullable().references('id').inTable('organizations').onDelete('CASCADE')
      .withKeyName('api_keys_organization_fk');
    t.text('name').notNullable();
    t.text('role').notNullable();
    t.text('prefix').notNullable().comment('Public lookup prefix: "aa_" + the first 8 characters of the key body');
    t.binary('key_hash').notNullable().comment('HMAC-SHA256(pepper, key)');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.unique(['prefix'], { indexName: 'api_keys_prefix_uniq' });
    t.index(['organization_id', 'created_at'], 'api_keys_organization_idx');
  });
  await knex.raw(`alter table api_keys add constraint api_keys_role_chk check (role in ('admin','operator','reader'))`);

  await knex.schema.createTable('agents', (t) => {
    t.comment('AI agents with cryptographic identities. The private key is never stored.');
    t.uuid('id').primary({ constraintName: 'agents_pk' }).comment('UUIDv7: time-ordered, the keyset pagination key');
    t.uuid('organization_id').notNullable().references('id').inTable('organizations').onDelete('CASCADE')
      .withKeyName('agents_organization_fk');
    t.text('name').notNullable();
    t.jsonb('scopes').notNullable().defaultTo('[]');
    t.text('status').notNullable().defaultTo('active');
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('last_auth_at', { useTz: true });
    t.timestamp('status_changed_at', { useTz: true }).notNullable()
      .comment('Tokens issued before this instant are invalid (suspension outlives reactivation)');
    t.index(['organization_id', 'id'], 'agents_organization_id_idx');
  });
  await knex.raw(`alter table agents add constraint agents_status_chk check (status in ('active','suspended','revoked'))`);
  await knex.raw(`alter table agents add constraint agents_scopes_array_chk check (jsonb_typeof(scopes) = 'array')`);
  await knex.raw(`alter table agents add constraint agents_metadata_object_chk check (jsonb_typeof(metadata) = 'object')`);
  await knex.raw(`create unique index agents_live_name_uniq on agents (organization_id, name) where status <> 'revoked'`);
  await knex.raw(`create index agents_organization_name_idx on agents (organization_id, name text_pattern_ops)`);
  await knex.raw(`
    create function agents_revoked_is_terminal() returns trigger language plpgsql as $$
    begin
      if old.status = 'revoked' and new.status is distinct from 'revoked' then
        raise exception 'agent % is revoked; revocation is permanent', old.id using errcode = 'P0001', constraint = 'agents_revoked_terminal';
      end if;
      return new;
    end $$`);
  await knex.raw(`create trigger agents_revoked_is_terminal before update on agents for each row execute function agents_revoked_is_terminal()`);

  await knex.schema.createTable('agent_keys', (t) => {
    t.comment('Ed25519 public keys of an agent. Several may be active at once, for rotation without downtime.');
    t.uuid('agent_id').notNullable().references('id').inTable('agents').onDelete('CASCADE').withKeyName('agent_keys_agent_fk');
    t.text('kid').notNullable().comment('RFC 7638 JWK thumbprint of the public key');
    t.binary('public_key').notNullable().comment('32 raw Ed25519 public key bytes');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.primary(['agent_id', 'kid'], { constraintName: 'agent_keys_pk' });
  });
  await knex.raw(`alter table agent_keys add constraint agent_keys_length_chk check (octet_length(public_key) = 32)`);

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.comment('Replays of creates. The stored response never contains a secret.');
    t.uuid('organization_id').notNullable().references('id').inTable('organizations').onDelete('CASCADE')
      .withKeyName('idempotency_keys_organization_fk');
    t.text('key').notNullable();
    t.text('scope').notNullable().comment('Which endpoint the key was used on');
    t.text('request_hash').notNullable();
    t.integer('response_status').notNullable();
    t.jsonb('response_body').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.primary(['organization_id', 'scope', 'key'], { constraintName: 'idempotency_keys_pk' });
  });

  await knex.schema.createTable('audit_chain_heads', (t) => {
    t.comment('Per-organization head of the audit hash chain; locked FOR UPDATE to append in order.');
    t.uuid('organization_id').primary({ constraintName: 'audit_chain_heads_pk' }).references('id').inTable('organizations')
      .onDelete('CASCADE').withKeyName('audit_chain_heads_organization_fk');
    t.bigInteger('last_seq').notNullable().defaultTo(0);
    t.text('last_hash').notNullable();
  });

  await knex.schema.createTable('audit_events', (t) => {
    t.comment('Append-only audit log, hash-chained per organization. UPDATE and DELETE are refused.');
    t.uuid('id').primary({ constraintName: 'audit_events_pk' });
    t.uuid('organization_id').notNullable().references('id').inTable('organizations').withKeyName('audit_events_organization_fk');
    t.bigInteger('seq').notNullable();
    t.text('action').notNullable();
    t.text('actor_type').notNullable();
    t.text('actor_id');
    t.text('target_type');
    t.text('target_id');
    t.text('outcome').notNullable();
    t.text('reason');
    t.text('request_id');
    t.text('client_ip');
    t.jsonb('data').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.text('prev_hash').notNullable();
    t.text('hash').notNullable();
    t.unique(['organization_id', 'seq'], { indexName: 'audit_events_org_seq_uniq' });
    t.index(['organization_id', 'target_id', 'seq'], 'audit_events_target_idx');
  });
  await knex.raw(`
    create function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only' using errcode = 'P0001';
    end $$`);
  await knex.raw(`create trigger audit_events_no_update before update or delete on audit_events for each row execute function audit_events_append_only()`);
  await knex.raw(`create trigger audit_events_no_truncate before truncate on audit_events for each statement execute function audit_events_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists audit_events, audit_chain_heads, idempotency_keys, agent_keys, agents, api_keys, organizations cascade');
  await knex.raw('drop function if exists audit_events_append_only(), agents_revoked_is_terminal()');
}
