/** Agent metadata: string key/value pairs to track ownership, environment, version… */
import { CertusOrdoClient } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient) {
  const agent = await client.agents.create({
    name: 'data-processor',
    scopes: ['data:read', 'data:write'],
    metadata: {
      environment: 'production',
      team: 'data-engineering',
      version: '1.2.0',
    },
  });

  // Metadata is replaced as a whole on update
  const updated = await client.agents.update(agent.id, { metadata: { ...agent.metadata, version: '1.3.0' } });
  console.log(updated.metadata);
  return { created: agent, updated };
}

if (require.main === module) runStandalone(main);
