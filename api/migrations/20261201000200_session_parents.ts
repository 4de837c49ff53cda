/**
 * Sessions live inside the access token that opened them: each session records that token's jti
 * (`parent_jti`), so revoking the token ends its sessions in the revocation's transaction, found
 * through the index. Sessions opened before this column existed have no recorded parent (null);
 * they still end with their own TTL (at most one hour), their agent, or an explicit end.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => {
    t.text('parent_jti').nullable().comment('jti of the access token that opened the session; revoking it ends the session');
  });
  await knex.raw('create index sessions_parent_jti_idx on sessions (parent_jti) where parent_jti is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists sessions_parent_jti_idx');
  await knex.schema.alterTable('sessions', (t) => {
    t.dropColumn('parent_jti');
  });
}
