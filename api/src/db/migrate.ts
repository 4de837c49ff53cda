/**
 * Applies the schema migrations. Migrations are imported modules (not a globbed folder), so the
 * same list works from TypeScript sources under jest and from compiled JavaScript.
 */
import type { Knex } from 'knex';
import type { MasterKey } from '../crypto/master-key';
import * as init from '../../migrations/20261125000000_init';
import * as auth from '../../migrations/20261125100000_auth';
import * as idempotencyExpiry from '../../migrations/20261126000000_idempotency_expiry';
import * as orgSigningKeys from '../../migrations/20261201000000_org_signing_keys';
import * as keyedAuditChain from '../../migrations/20261201000100_keyed_audit_chain';
import * as sessionParents from '../../migrations/20261201000200_session_parents';
import * as boundedGrowth from '../../migrations/20261201000300_bounded_growth';
import * as masterKeyFingerprint from '../../migrations/20261201000400_master_key_fingerprint';
import * as rateLimitBuckets from '../../migrations/20261202000000_rate_limit_buckets';
import * as listIndexes from '../../migrations/20261202000100_list_indexes';
import * as firstAuthMarker from '../../migrations/20261204000000_first_auth_marker';
import * as introspectorRole from '../../migrations/20261204000100_introspector_role';
import * as apiKeyBinding from '../../migrations/20261204000300_api_key_binding';
import * as agentKeySeals from '../../migrations/20261204000310_agent_key_seals';
import * as federatedCredentials from '../../migrations/20261204002200_federated_credentials';
import * as sessionRenewals from '../../migrations/20261204100000_session_renewals';
import * as creationNotifications from '../../migrations/20261204120000_creation_notifications';
import * as agentDelegations from '../../migrations/20261204130000_agent_delegations';
import * as speculativeAppends from '../../migrations/20261205000000_speculative_appends';

/**
 * What a migration may need besides the schema: the master key's derived keys, for a migration
 * that seals existing data (the keyed audit chain's cut-over). Absent when the process has no key.
 */
export interface MigrationContext {
  keys?: MasterKey | null;
}

interface Migration {
  up(knex: Knex, ctx: MigrationContext): Promise<void>;
  down(knex: Knex, ctx: MigrationContext): Promise<void>;
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
  ['20261202000000_rate_limit_buckets', rateLimitBuckets],
  ['20261202000100_list_indexes', listIndexes],
  ['20261204000000_first_auth_marker', firstAuthMarker],
  ['20261204000100_introspector_role', introspectorRole],
  ['20261204000300_api_key_binding', apiKeyBinding],
  ['20261204000310_agent_key_seals', agentKeySeals],
  ['20261204002200_federated_credentials', federatedCredentials],
  ['20261204100000_session_renewals', sessionRenewals],
  ['20261204120000_creation_notifications', creationNotifications],
  ['20261204130000_agent_delegations', agentDelegations],
  ['20261205000000_speculative_appends', speculativeAppends],
];

class ListMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly upTo?: string, private readonly ctx: MigrationContext = {}) {}
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
    const m = found[1];
    return { up: (knex: Knex) => m.up(knex, this.ctx), down: (knex: Knex) => m.down(knex, this.ctx) };
  }
}

export async function migrateLatest(knex: Knex, ctx: MigrationContext = {}): Promise<string[]> {
  const [, applied] = await knex.migrate.latest({ migrationSource: new ListMigrationSource(undefined, ctx) });
  return applied as string[];
}

export async function migrateTo(knex: Knex, name: string, ctx: MigrationContext = {}): Promise<void> {
  await knex.migrate.latest({ migrationSource: new ListMigrationSource(name, ctx) });
}

export async function migrateDown(knex: Knex): Promise<void> {
  await knex.migrate.down({ migrationSource: new ListMigrationSource() });
}
