/** Getting agent details. Usage: get-agent <agent id> (default: the first agent listed). */
import { CertusOrdoClient } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient, agentId?: string) {
  const id = agentId ?? (await client.agents.listPage({ limit: 1 })).data[0]?.id;
  if (!id) throw new Error('no agent to show: pass an agent id');

  const agent = await client.agents.get(id);
  console.log(`Name: ${agent.name}`);
  console.log(`Status: ${agent.status}`);
  console.log(`Scopes: ${agent.scopes.join(', ')}`);
  console.log(`Created: ${agent.createdAt.toISOString()}`);
  console.log(`Last Auth: ${agent.lastAuthAt?.toISOString() ?? 'never'}`);
  return agent;
}

if (require.main === module) runStandalone(main);
