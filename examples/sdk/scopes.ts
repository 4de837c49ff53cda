/**
 * Defining scopes (`resource:action`, e.g. payments:read, users:delete, reports:generate,
 * transactions:rollback). Follow the principle of least privilege.
 */
import { CertusOrdoClient } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient) {
  // Read-only agent
  const reader = await client.agents.create({
    name: 'report-generator',
    scopes: ['data:read', 'reports:read'],
  });

  // Full access agent (use sparingly)
  const admin = await client.agents.create({
    name: 'admin-agent',
    scopes: ['data:read', 'data:write', 'data:delete', 'admin:manage'],
  });

  console.log(`${reader.name}: ${reader.scopes.join(', ')}`);
  console.log(`${admin.name}: ${admin.scopes.join(', ')}`);
  return { reader, admin };
}

if (require.main === module) runStandalone(main);
