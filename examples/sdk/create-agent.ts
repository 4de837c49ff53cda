/** Creating agents: the secret is returned only once — store it immediately. */
import { CertusOrdoClient } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient) {
  // Create a new agent
  const agent = await client.agents.create({
    name: 'payment-processor',
    scopes: ['payments:read', 'payments:write'],
  });

  console.log(`Agent ID: ${agent.id}`);
  console.log(`Public Key: ${agent.publicKey}`);
  console.log(`Secret: ${agent.secret}`); // Save this immediately!
  return agent;
}

if (require.main === module) runStandalone(main);
