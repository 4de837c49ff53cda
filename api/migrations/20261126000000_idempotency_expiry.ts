/**
 * Idempotency records expire (CERTUSORDO_IDEMPOTENCY_TTL, default 24 h): the periodic purge
 * deletes by age, so it needs an index on created_at instead of scanning the table.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.index(['created_at'], 'idempotency_keys_created_at_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropIndex(['created_at'], 'idempotency_keys_created_at_idx');
  });
}
