/**
 * Keyed audit chains. New links are HMAC-SHA256 under a key derived from the master key, so
 * database write access alone cannot produce a chain that verifies.
 *
 * Existing chains are not rewritten (audit_events is append-only): each one is cut over. Its
 * events so far stay verifiable as plain SHA-256 links up to the cut-over seq, recorded on the
 * chain head with its hash and an HMAC seal under the chain key (nobody without the key can move
 * the cut-over to relabel keyed events as legacy); the migration then appends one keyed event,
 * `audit.chain_keyed`, linked to the last legacy hash, so the legacy prefix is protected at once
 * instead of at the organization's next change. Sealing needs the master key: the migration
 * refuses to run without it when any chain exists (a fresh database needs no key).
 *
 * Also creates audit_verified_points: the last point a verification reached per organization,
 * sealed the same way, from which the next verification resumes.
 */
import type { Knex } from 'knex';
import { uuidv7 } from '../src/crypto/ids';
import type { MigrationContext } from '../src/db/migrate';
import { chainKeys, cutoverSeal, keyedLink, type ChainEventBody } from '../src/services/audit';

export async function up(knex: Knex, ctx: MigrationContext = {}): Promise<void> {
  await knex.schema.alterTable('audit_chain_heads', (t) => {
    t.bigInteger('legacy_seq').nullable().comment('Last plain SHA-256 event of a chain begun before keyed links (null: keyed from its genesis)');
    t.text('legacy_hash').nullable().comment('Hash of the event at legacy_seq');
    t.text('legacy_mac').nullable().comment('HMAC seal of (organization, legacy_seq, legacy_hash) under the chain key');
  });
  await knex.schema.createTable('audit_verified_points', (t) => {
    t.comment('Where the last audit chain verification of each organization ended; the next one resumes there.');
    t.uuid('organization_id').primary({ constraintName: 'audit_verified_points_pk' }).references('id').inTable('organizations')
      .onDelete('CASCADE').withKeyName('audit_verified_points_organization_fk');
    t.bigInteger('seq').notNullable();
    t.text('hash').notNullable();
    t.text('mac').notNullable().comment('HMAC seal of (organization, seq, hash) under the chain key');
    t.timestamp('verified_at', { useTz: true }).notNullable();
  });

  const heads = (await knex('audit_chain_heads').select('organization_id', 'last_seq', 'last_hash').orderBy('organization_id')) as { organization_id: string; last_seq: number | string; last_hash: string }[];
  if (heads.length === 0) return;
  if (!ctx.keys) {
    throw new Error(
      `Migration 20261201000100_keyed_audit_chain seals the ${heads.length} existing audit chain(s) with the master key, and this process has none: ` +
        'run it with the server\'s CERTUSORDO_MASTER_KEY set (certusordo migrate or certusordo serve)',
    );
  }
  const keys = chainKeys(ctx.keys.auditChain);
  const now = new Date();
  for (const h of heads) {
    const orgId = h.organization_id;
    const legacySeq = Number(h.last_seq);
    const e: ChainEventBody = {
      organization_id: orgId, seq: legacySeq + 1, action: 'audit.chain_keyed', actor_type: 'system', actor_id: null,
      target_type: 'organization', target_id: orgId, outcome: 'success', reason: null, request_id: null, client_ip: null,
      data: { legacy_seq: legacySeq, legacy_hash: h.last_hash }, created_at: now,
    };
    const hash = keyedLink(keys, h.last_hash, e);
    await knex('audit_events').insert({ ...e, id: uuidv7(), data: JSON.stringify(e.data), prev_hash: h.last_hash, hash });
    await knex('audit_chain_heads').where({ organization_id: orgId }).update({
      last_seq: e.seq, last_hash: hash, legacy_seq: legacySeq, legacy_hash: h.last_hash, legacy_mac: cutoverSeal(keys, orgId, legacySeq, h.last_hash),
    });
  }
}

/**
 * Drops the cut-over records and verified points. Keyed events stay (the log is append-only), and
 * the previous code cannot verify them: going down is for development databases only.
 */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_verified_points');
  await knex.schema.alterTable('audit_chain_heads', (t) => {
    t.dropColumn('legacy_mac');
    t.dropColumn('legacy_hash');
    t.dropColumn('legacy_seq');
  });
}
