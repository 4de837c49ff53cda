/**
 * Delegation (RFC 8693 `may_act`): which agents may act for which. One row per (subject, actor)
 * pair, so Terraform can declare each grant as its own resource (A may act for B and B for A is
 * two rows, no dependency cycle). Both agents belong to the row's organization (checked by the
 * service under their row locks). `created_at` is part of the rule: a delegated token is valid
 * only if issued at or after its pair's row was created, so removing a grant and adding it again
 * never revives the tokens issued under the first one.
 *
 * Inserts and deletes notify `delegation:<subject>:<actor>` on the auth channel, so every replica
 * drops its cached answer for the pair at commit (tokens/state.ts).
 */
import type { Knex } from 'knex';
import { AUTH_CHANNEL } from './20261125100000_auth';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('agent_delegations', (t) => {
    t.comment('RFC 8693 may_act: the actor agent may exchange access tokens of the subject agent for tokens that act for it.');
    t.uuid('subject_agent_id').notNullable().references('id').inTable('agents').onDelete('CASCADE')
      .withKeyName('agent_delegations_subject_fk').comment('The agent acted for (the `sub` of the exchanged token)');
    t.uuid('actor_agent_id').notNullable().references('id').inTable('agents').onDelete('CASCADE')
      .withKeyName('agent_delegations_actor_fk').comment('The agent allowed to act for it (the `act.sub` of the exchanged token)');
    t.uuid('organization_id').notNullable().references('id').inTable('organizations').onDelete('CASCADE')
      .withKeyName('agent_delegations_organization_fk').comment('The organization of both agents');
    t.timestamp('created_at', { useTz: true }).notNullable().comment('Delegated tokens issued before this instant are invalid');
    t.primary(['subject_agent_id', 'actor_agent_id'], { constraintName: 'agent_delegations_pk' });
    t.index(['actor_agent_id'], 'agent_delegations_actor_idx');
  });
  await knex.raw(`alter table agent_delegations add constraint agent_delegations_not_self_chk check (subject_agent_id <> actor_agent_id)`);
  await knex.raw(`
    create function auth_notify_delegation() returns trigger language plpgsql as $$
    declare r agent_delegations;
    begin
      if tg_op = 'DELETE' then r := old; else r := new; end if;
      perform pg_notify('${AUTH_CHANNEL}', 'delegation:' || r.subject_agent_id::text || ':' || r.actor_agent_id::text);
      return null;
    end $$`);
  await knex.raw(`create trigger agent_delegations_auth_notify after insert or delete on agent_delegations for each row execute function auth_notify_delegation()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists agent_delegations_auth_notify on agent_delegations');
  await knex.raw('drop table if exists agent_delegations');
  await knex.raw('drop function if exists auth_notify_delegation()');
}
