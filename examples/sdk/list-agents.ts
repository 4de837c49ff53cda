/** Listing agents: iterate every page with `for await`, or filter on the server. */
import { CertusOrdoClient, type Agent } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient) {
  // Get all agents in your organization (pages are fetched as the loop needs them)
  const all: Agent[] = [];
  for await (const agent of client.agents.list()) {
    console.log(`${agent.name}: ${agent.status}`);
    all.push(agent);
  }

  // Filter by status
  const active: Agent[] = [];
  for await (const agent of client.agents.list({ status: 'active' })) active.push(agent);
  console.log(`${active.length} of ${all.length} agents are active`);

  // One page at a time, when you want to control the paging yourself
  const page = await client.agents.listPage({ namePrefix: 'payment-', limit: 20 });
  console.log(`first page: ${page.data.length} payment agents, more: ${page.hasNextPage()}`);

  return { all, active, firstPage: page.data };
}

if (require.main === module) runStandalone(main);
