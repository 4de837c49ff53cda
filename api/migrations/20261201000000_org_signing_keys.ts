/**
 * Token signing keys per organization: every organization is its own issuer
 * (`<public url>/orgs/<org id>`) with its own keys, so a verifier configured with one
 * organization's issuer and JWKS refuses every other organization's tokens.
 *
 * The platform-wide keys are deleted: tokens they signed carry the old, organization-less issuer
 * and would fail the new issuer check anyway. Agents request new tokens (each organization's
 * first key is created on first use); old tokens were dead at most one token lifetime later.
 * The notification names the organization (`signing_keys:<org id>`), so replicas reload only it.
 */
import type { Knex } from 'knex';
import { AUTH_CHANNEL } from './20261125100000_auth';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists signing_keys_auth_notify on signing_keys');
  await knex('signing_keys').delete();
  await knex.schema.alterTable('signing_keys', (t) => {
    t.uuid('organization_id').notNullable().references('id').inTable('organizations').onDelete('CASCADE')
      .withKeyName('signing_keys_organization_fk').comment('The organization (issuer) whose tokens this key signs');
  });
  await knex.raw('drop index if exists signing_keys_one_current_uniq');
  await knex.raw('create unique index signing_keys_one_current_uniq on signing_keys (organization_id) where rotated_at is null');
  await knex.raw('create index signing_keys_organization_idx on signing_keys (organization_id, created_at)');
  await knex.raw(`
    create or replace function auth_notify_signing_key() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        perform pg_notify('${AUTH_CHANNEL}', 'signing_keys:' || old.organization_id::text);
      else
        perform pg_notify('${AUTH_CHANNEL}', 'signing_keys:' || new.organization_id::text);
      end if;
      return null;
    end $$`);
  await knex.raw('create trigger signing_keys_auth_notify after insert or update or delete on signing_keys for each row execute function auth_notify_signing_key()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists signing_keys_auth_notify on signing_keys');
  // Organization keys have no platform-wide equivalent; the server creates a new global key at start.
  await knex('signing_keys').delete();
  await knex.raw('drop index if exists signing_keys_organization_idx');
  await knex.raw('drop index if exists signing_keys_one_current_uniq');
  await knex.schema.alterTable('signing_keys', (t) => {
    t.dropForeign(['organization_id'], 'signing_keys_organization_fk');
    t.dropColumn('organization_id');
  });
  await knex.raw('create unique index signing_keys_one_current_uniq on signing_keys ((true)) where rotated_at is null');
  await knex.raw(`
    create or replace function auth_notify_signing_key() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${AUTH_CHANNEL}', 'signing_keys:');
      return null;
    end $$`);
  await knex.raw('create trigger signing_keys_auth_notify after insert or update or delete on signing_keys for each statement execute function auth_notify_signing_key()');
}
