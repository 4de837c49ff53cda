/**
 * Applies the schema migrations. Migrations are imported modules (not a globbed folder), so the
 * same list works from TypeScript sources under jest and from compiled JavaScript.
 */
import type { Knex } from 'knex';
import * as init from '../../migrations/20261125000000_init';
import * as auth from '../../migrations/20261125100000_auth';
import * as idempotencyExpiry from '../../migrations/20261126000000_idempotency_expiry';
import * as orgSigningKeys from '../../migrations/20261201000000_org_signing_keys';
import * as keyedAuditChain from '../../migrations/20261201000100_keyed_audit_chain';
import * as sessionParents from '../../migrations/20261201000200_session_parents';
import * as boundedGrowth from '../../migrations/20261201000300_bounded_growth';
import * as masterKeyFingerprint from '../../migrations/20261201000400_master_key_fingerprint';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Ordered by name; append new migrations here. */
export const MIGRATIONS: ReadonlyArray<readonly [string, Migration]> = [
  ['20261125000000_init', init],
  ['20261125100000_auth', auth],
  ['20261126000000_idempotency_expiry', idempotencyExpiry],
  ['20261201000000_org_signing_keys', orgSigningKeys],
  ['20261201000100_keyed_audit_chain', keyedAuditChain],
  ['20261201000200_session_parents', sessionParents],
  ['20261201000300_bounded_growth', boundedGrowth],
  ['20261201000400_master_key_fingerprint', masterKeyFingerprint],
];

class ListMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly upTo?: string) {}
  async getMigrations(): Promise<string[]> {
    const names = MIGRATIONS.map(([n]) => n);
    return this.upTo ? names.filter((n) => n <= this.upTo!) : names;
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Knex.Migration> {
    const found = MIGRATIONS.find(([n]) => n === name);
    if (!found) throw new Error(`Unknown migration ${name}`);
    return found[1];
  }
}

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = await knex.migrate.latest({ migrationSource: new ListMigrationSource() });
  return applied as string[];
}

export async function migrateTo(knex: Knex, name: string): Promise<void> {
  await knex.migrate.latest({ migrationSource: new ListMigrationSource(name) });
}

export async function migrateDown(knex: Knex): Promise<void> {
  await knex.migrate.down({ migrationSource: new ListMigrationSource() });
}
