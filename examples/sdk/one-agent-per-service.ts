/** Best practice 1: one agent per service, so each can be scoped, audited and revoked alone. */
import { CertusOrdoClient } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient) {
  // ✅ Good - separate agents for separate services
  const paymentAgent = await client.agents.create({ name: 'payment-service' });
  const emailAgent = await client.agents.create({ name: 'email-service' });

  // ❌ Bad - one shared agent ("all-services") for everything

  console.log(`payment-service: ${paymentAgent.id}\nemail-service: ${emailAgent.id}`);
  return { paymentAgent, emailAgent };
}

if (require.main === module) runStandalone(main);
