/** Best practice 2: separate agents for each environment. */
import { CertusOrdoClient } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient) {
  const devAgent = await client.agents.create({ name: 'processor-dev', scopes: ['read'] });
  const stagingAgent = await client.agents.create({ name: 'processor-staging', scopes: ['read', 'write'] });
  const prodAgent = await client.agents.create({ name: 'processor-prod', scopes: ['read', 'write'] });

  for (const a of [devAgent, stagingAgent, prodAgent]) console.log(`${a.name}: ${a.scopes.join(', ')}`);
  return { devAgent, stagingAgent, prodAgent };
}

if (require.main === module) runStandalone(main);
