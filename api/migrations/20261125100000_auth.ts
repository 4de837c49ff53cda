/**
 * Agent authentication: the control plane's signing keys, single-use client-assertion ids,
 * revoked access tokens and bounded sessions. Triggers publish every change that can make a
 * token invalid (agent status, session end, token revocation, API-key revocation, signing-key
 * rotation) on the `certusordo_auth` channel; pg_notify inside the mutation's transaction is
 * delivered at commit, so replicas drop cached state exactly when the change becomes visible.
 */
import type { Knex } from 'knex';

export const AUTH_CHANNEL = 'certusordo_auth';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('signing_keys', (t) => {
    t.comment('Ed25519 keys the control plane signs access tokens with. Private parts are AES-256-GCM encrypted.');
    t.text('kid').primary({ constraintName: 'signing_keys_pk' }).comment('RFC 7638 JWK thumbprint of the public key');
    t.binary('public_key').notNullable().comment('32 raw Ed25519 public key bytes');
    t.binary('private_key_enc').notNullable().comment('iv(12) || AES-256-GCM(seed) || tag(16); AAD = kid');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('rotated_at', { useTz: true }).comment('When a newer key replaced it; null for the current key');
    t.timestamp('expires_at', { useTz: true }).comment('Published (and kept) until its last token has expired; null while current');
  });
  await knex.raw(`alter table signing_keys add constraint signing_keys_length_chk check (octet_length(public_key) = 32)`);
  await knex.raw(`alter table signing_keys add constraint signing_keys_rotation_chk check ((rotated_at is null) = (expires_at is null))`);
  await knex.raw(`create unique index signing_keys_one_current_uniq on signing_keys ((true)) where rotated_at is null`);

  await knex.schema.createTable('assertion_jtis', (t) => {
    t.comment('Client-assertion ids already used (RFC 7523 single use). A row lives until its assertion has expired.');
    // No foreign key to agents on purpose: its KEY SHARE lock on the agent row would turn the token
    // endpoint's agent row lock into a lock upgrade (deadlock-prone); rows expire within minutes anyway.
    t.uuid('agent_id').notNullable().comment('The assertion iss (= sub)');
    t.text('jti').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable().comment('The assertion exp; the row may be purged afterwards');
    t.primary(['agent_id', 'jti'], { constraintName: 'assertion_jtis_pk' });
    t.index(['expires_at'], 'assertion_jtis_expires_idx');
  });

  await knex.schema.createTable('revoked_tokens', (t) => {
    t.comment('Access tokens revoked before their expiry (RFC 7009). A row lives until the token would have expired.');
    t.text('jti').primary({ constraintName: 'revoked_tokens_pk' });
    t.uuid('organization_id').notNullable().references('id').inTable('organizations').onDelete('CASCADE')
      .withKeyName('revoked_tokens_organization_fk');
    t.uuid('agent_id').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true }).notNullable();
    t.index(['expires_at'], 'revoked_tokens_expires_idx');
  });

  await knex.schema.createTable('sessions', (t) => {
    t.comment('Bounded sessions: a subset of the agent scopes, an expiry and an optional operation budget.');
    t.uuid('id').primary({ constraintName: 'sessions_pk' }).comment('UUIDv7: time-ordered, the keyset pagination key');
    t.uuid('organization_id').notNullable().references('id').inTable('organizations').onDelete('CASCADE')
      .withKeyName('sessions_organization_fk');
    t.uuid('agent_id').notNullable().references('id').inTable('agents').onDelete('CASCADE').withKeyName('sessions_agent_fk');
    t.jsonb('scopes').notNullable();
    t.integer('max_operations').comment('null: no budget');
    t.integer('operations_used').notNullable().defaultTo(0);
    t.text('status').notNullable().defaultTo('active').comment('active | exhausted | ended; "expired" is derived from expires_at');
    t.text('purpose');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
    t.text('end_reason').comment('ended_by_agent | ended_by_api_key | agent_suspended | agent_revoked');
    t.index(['organization_id', 'id'], 'sessions_organization_id_idx');
    t.index(['organization_id', 'agent_id', 'id'], 'sessions_agent_idx');
  });
  await knex.raw(`alter table sessions add constraint sessions_status_chk check (status in ('active','exhausted','ended'))`);
  await knex.raw(`alter table sessions add constraint sessions_scopes_array_chk check (jsonb_typeof(scopes) = 'array')`);
  await knex.raw(`alter table sessions add constraint sessions_budget_chk check (max_operations is null or (max_operations > 0 and operations_used <= max_operations))`);
  await knex.raw(`alter table sessions add constraint sessions_used_chk check (operations_used >= 0)`);
  await knex.raw(`alter table sessions add constraint sessions_expiry_chk check (expires_at > created_at)`);
  await knex.raw(`alter table sessions add constraint sessions_ended_chk check ((status = 'ended') = (ended_at is not null))`);

  // Invalidation notifications (payload "<kind>:<id>").
  await knex.raw(`
    create function auth_notify_agent() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${AUTH_CHANNEL}', 'agent:' || new.id::text);
      return null;
    end $$`);
  await knex.raw(`
    create trigger agents_auth_notify after update of status, status_changed_at on agents for each row
    when (old.status is distinct from new.status or old.status_changed_at is distinct from new.status_changed_at)
    execute function auth_notify_agent()`);
  // Credentials (keys, scopes, status) cached by the token endpoint.
  await knex.raw(`
    create function auth_notify_credentials() returns trigger language plpgsql as $$
    begin
      if tg_table_name <> 'agent_keys' then
        perform pg_notify('${AUTH_CHANNEL}', 'credentials:' || new.id::text);
      elsif tg_op = 'DELETE' then
        perform pg_notify('${AUTH_CHANNEL}', 'credentials:' || old.agent_id::text);
      else
        perform pg_notify('${AUTH_CHANNEL}', 'credentials:' || new.agent_id::text);
      end if;
      return null;
    end $$`);
  await knex.raw(`
    create trigger agents_credentials_notify after update of scopes, status on agents for each row
    when (old.scopes is distinct from new.scopes or old.status is distinct from new.status)
    execute function auth_notify_credentials()`);
  await knex.raw(`create trigger agent_keys_credentials_notify after insert or update or delete on agent_keys for each row execute function auth_notify_credentials()`);
  await knex.raw(`
    create function auth_notify_session() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${AUTH_CHANNEL}', 'session:' || new.id::text);
      return null;
    end $$`);
  await knex.raw(`
    create trigger sessions_auth_notify after update of status on sessions for each row
    when (old.status is distinct from new.status) execute function auth_notify_session()`);
  await knex.raw(`
    create function auth_notify_revoked_token() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${AUTH_CHANNEL}', 'token:' || (extract(epoch from new.expires_at) * 1000)::bigint::text || ':' || new.jti);
      return null;
    end $$`);
  await knex.raw(`create trigger revoked_tokens_auth_notify after insert on revoked_tokens for each row execute function auth_notify_revoked_token()`);
  await knex.raw(`
    create function auth_notify_api_key() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${AUTH_CHANNEL}', 'api_key:' || old.id::text);
      return null;
    end $$`);
  await knex.raw(`create trigger api_keys_auth_notify after update of revoked_at, role or delete on api_keys for each row execute function auth_notify_api_key()`);
  await knex.raw(`
    create function auth_notify_signing_key() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${AUTH_CHANNEL}', 'signing_keys:');
      return null;
    end $$`);
  await knex.raw(`create trigger signing_keys_auth_notify after insert or update or delete on signing_keys for each statement execute function auth_notify_signing_key()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists agents_auth_notify on agents');
  await knex.raw('drop trigger if exists agents_credentials_notify on agents');
  await knex.raw('drop trigger if exists agent_keys_credentials_notify on agent_keys');
  await knex.raw('drop trigger if exists api_keys_auth_notify on api_keys');
  await knex.raw('drop table if exists sessions, revoked_tokens, assertion_jtis, signing_keys cascade');
  await knex.raw('drop function if exists auth_notify_agent(), auth_notify_credentials(), auth_notify_session(), auth_notify_revoked_token(), auth_notify_api_key(), auth_notify_signing_key()');
}
