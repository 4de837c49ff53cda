/**
 * Agent lifecycle: CREATE → ACTIVE ⇄ SUSPENDED, ACTIVE/SUSPENDED → REVOKED (permanent).
 * Usage: lifecycle [agent id] (default: creates a demo agent).
 */
import { CertusOrdoClient, ConflictError } from '@certusordo/sdk';
import { runStandalone } from './run';

export async function main(client: CertusOrdoClient, agentId?: string) {
  const id = agentId ?? (await client.agents.create({ name: 'lifecycle-demo', scopes: ['data:read'] })).id;

  // Suspend — the agent can no longer authenticate
  await client.agents.suspend(id, 'investigating unusual activity');

  // Check status
  let agent = await client.agents.get(id);
  console.log(agent.status); // "suspended"
  const afterSuspend = agent.status;

  // Reactivate later
  agent = await client.agents.activate(id);
  console.log(agent.status); // "active"
  const afterActivate = agent.status;

  // Revoke — permanent, cannot be undone: it can no longer authenticate and its tokens are invalidated
  agent = await client.agents.revoke(id, 'service decommissioned');
  console.log(agent.status); // "revoked"

  // A revoked agent cannot come back
  try {
    await client.agents.activate(id);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    console.log(`Cannot reactivate: ${err.message} (${err.code})`); // invalid_transition
  }
  return { afterSuspend, afterActivate, final: agent.status };
}

if (require.main === module) runStandalone(main);
