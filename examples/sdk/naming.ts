/** Agent naming conventions: descriptive, consistent names (service, purpose, environment). */
import { CertusOrdoClient } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient) {
  // ✅ Good naming
  const invoice = await client.agents.create({ name: 'invoice-processor-prod' });
  const support = await client.agents.create({ name: 'customer-support-agent-v2' });
  const sync = await client.agents.create({ name: 'data-sync-staging' });

  // ❌ Avoid: names that say nothing, like "agent1" or "test".

  for (const a of [invoice, support, sync]) console.log(`${a.name}: ${a.id}`);
  return [invoice, support, sync];
}

if (require.main === module) runStandalone(main);
