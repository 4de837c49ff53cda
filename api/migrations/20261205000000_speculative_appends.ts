/**
 * The token endpoint's group commit may write a batch in one statement that assumes what it last
 * saw (the organizations' audit chain heads, the agents' scopes and status; AuthWriter). That
 * statement must write nothing when an assumption no longer holds, and one statement can only
 * refuse by raising an error: this function raises SQLSTATE CO001 when its argument is false, and
 * the writer then runs the batch through its locking path. Expand-only, plain SQL that PGlite
 * runs as well.
 */
import type { Knex } from 'knex';

/** The SQLSTATE a refused speculation raises (db/errors.ts). */
export const SPECULATION_REFUSED = 'CO001';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function certusordo_speculation_holds(holds boolean) returns boolean language plpgsql volatile as $$
    begin
      if holds is not true then
        raise exception 'a speculative write no longer holds' using errcode = '${SPECULATION_REFUSED}';
      end if;
      return true;
    end $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists certusordo_speculation_holds(boolean)');
}
