/**
 * First start: with an empty database, create an organization and an admin API key and hand the
 * key to the caller exactly once. An advisory lock keeps two replicas starting together from
 * bootstrapping twice.
 */
import type { Knex } from 'knex';
import type { Services } from './services';
import { systemContext } from './services/organizations';
import { uuidv7 } from './crypto/ids';
import { insertOrganization } from './db/operations/organizations';

export interface BootstrapResult {
  organizationId: string;
  apiKey: string;
}

export async function bootstrapIfEmpty(db: Knex, services: Services, orgName = 'default'): Promise<BootstrapResult | null> {
  return db.transaction(async (tx) => {
    await tx.raw(`select pg_advisory_xact_lock(hashtext('certusordo.bootstrap'))`);
    const count = await tx('organizations').count<{ count: string }[]>('* as count');
    if (Number(count[0]?.count ?? 0) > 0) return null;
    const id = uuidv7();
    await insertOrganization(tx, { id, name: orgName, created_at: new Date() });
    await services.audit.startChain(tx, id);
    await services.audit.record(tx, systemContext(id), { action: 'organization.created', targetType: 'organization', targetId: id, data: { name: orgName, bootstrap: true } });
    const key = await services.organizations.createApiKey(systemContext(id), { name: 'bootstrap admin', role: 'admin' }, tx);
    return { organizationId: id, apiKey: key.key };
  });
}
