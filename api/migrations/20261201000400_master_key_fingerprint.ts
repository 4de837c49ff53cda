/**
 * One row: the fingerprint of the master key that sealed this database's keys (an HMAC of a fixed
 * label under a key derived from the master key, never the key itself). Every process that opens
 * the database compares its own master key's fingerprint with it and refuses on a mismatch. The
 * table starts empty: the first process that opens the database with a master key records it
 * (existing databases adopt the first key that opens them after this migration).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('master_key_fingerprint', (t) => {
    t.smallint('id').primary().notNullable().defaultTo(1);
    t.text('fingerprint').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check('id = 1', [], 'master_key_fingerprint_single_row');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('master_key_fingerprint');
}
