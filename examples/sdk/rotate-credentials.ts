/**
 * Rotating agent credentials after a compromise: revoke the agent, then create `<name>-rotated`
 * with the same scopes. Usage: rotate-credentials <compromised agent id>
 * (without an id, a demo agent is created first so the recipe can be tried end to end).
 */
import { CertusOrdoClient } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient, compromisedAgentId?: string) {
  const compromised = compromisedAgentId
    ? await client.agents.get(compromisedAgentId)
    : await client.agents.create({ name: 'billing-agent', scopes: ['billing:read', 'billing:write'] });

  // 1. Revoke the compromised agent immediately
  await client.agents.revoke(compromised.id, 'credentials compromised');

  // 2. Create a new agent with fresh credentials
  const newAgent = await client.agents.create({
    name: `${compromised.name}-rotated`,
    scopes: compromised.scopes,
  });

  // 3. Update your systems to use the new credentials
  console.log(`New agent ${newAgent.name} (${newAgent.id}); store its secret now: ${newAgent.secret}`);
  return { compromised, newAgent };
}

if (require.main === module) runStandalone(main);
