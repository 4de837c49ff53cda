/**
 * Creations are announced on the auth channel too, so that the negative caches (organization ids
 * without keys, agent ids, API-key prefixes that name nothing; tokens/negative-cache.ts) of every
 * replica forget an id the moment it starts to exist:
 *
 * - `organization:<id>` when an organization is created;
 * - `api_key:<id>` when an API key is created (as for its revocation: caches of API keys forget);
 * - agents need nothing new: an agent is created with its first key, and the agent_keys insert
 *   already announces `credentials:<agent id>`.
 *
 * Expand-only (replicas still on the previous version ignore the new kind), plain SQL that PGlite
 * runs as well (where the notifications have no listener; the services announce in process).
 */
import type { Knex } from 'knex';
import { AUTH_CHANNEL } from './20261125100000_auth';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function auth_notify_organization_created() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${AUTH_CHANNEL}', 'organization:' || new.id::text);
      return null;
    end $$`);
  await knex.raw('create trigger organizations_created_notify after insert on organizations for each row execute function auth_notify_organization_created()');
  await knex.raw(`
    create function auth_notify_api_key_created() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${AUTH_CHANNEL}', 'api_key:' || new.id::text);
      return null;
    end $$`);
  await knex.raw('create trigger api_keys_created_notify after insert on api_keys for each row execute function auth_notify_api_key_created()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists api_keys_created_notify on api_keys');
  await knex.raw('drop trigger if exists organizations_created_notify on organizations');
  await knex.raw('drop function if exists auth_notify_api_key_created(), auth_notify_organization_created()');
}
