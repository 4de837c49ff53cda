/**
 * A session's token may not outlive the access token it was minted from, so the agent renews it by
 * presenting a fresh access token of its own (POST /v1/sessions/{id}/token). The session then also
 * lives inside that token: revoking it ends the session, as revoking the opener (`parent_jti`)
 * does. Each renewal records the presented token's jti here, found through the jti index by the
 * revocation's transaction; the rows go with their session (cascade on the purge).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('session_renewals', (t) => {
    t.comment('Access tokens the token of a session was renewed with; revoking any of them ends the session');
    t.uuid('session_id').notNullable().references('id').inTable('sessions').onDelete('CASCADE')
      .withKeyName('session_renewals_session_fk').comment('The renewed session');
    t.text('jti').notNullable().comment('jti of the access token presented for the renewal');
    t.uuid('organization_id').notNullable().comment('The organization of the session (revocation looks up within it)');
    t.timestamp('created_at', { useTz: true }).notNullable().comment('First renewal with this token');
    t.primary(['session_id', 'jti'], { constraintName: 'session_renewals_pk' });
    t.index(['organization_id', 'jti'], 'session_renewals_jti_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('session_renewals');
}
