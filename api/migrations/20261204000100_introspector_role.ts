/**
 * API keys may have the `introspector` role (model/roles.ts): a key for a resource server that
 * asks whether an agent's token is still good (POST /v1/oauth/introspect) and can read nothing of
 * the organization. The check constraint is rebuilt from model/roles.ts's list.
 *
 * `down` refuses while introspector keys exist: the previous schema cannot hold them, and deleting
 * or promoting credentials is an operator's decision, not a migration's.
 */
import type { Knex } from 'knex';

const ROLES_BEFORE = ['admin', 'operator', 'reader'];
const ROLES_AFTER = [...ROLES_BEFORE, 'introspector'];

const check = (roles: string[]) => `alter table api_keys add constraint api_keys_role_chk check (role in (${roles.map((r) => `'${r}'`).join(',')}))`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table api_keys drop constraint api_keys_role_chk');
  await knex.raw(check(ROLES_AFTER));
}

export async function down(knex: Knex): Promise<void> {
  const { n } = (await knex.raw(`select count(*)::int as n from api_keys where role = 'introspector'`)).rows[0] as { n: number };
  if (n > 0) throw new Error(`${n} API key(s) have the introspector role, which the previous schema cannot hold; delete them before migrating down`);
  await knex.raw('alter table api_keys drop constraint api_keys_role_chk');
  await knex.raw(check(ROLES_BEFORE));
}
