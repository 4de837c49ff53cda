/**
 * Best practice 3: regular audits — find agents never used, or inactive for 90+ days. Revoked
 * agents are left out: they can never authenticate again, so there is nothing left to clean up.
 */
import { CertusOrdoClient } from '@certusordo/sdk';
import { runStandalone } from './run';

const DAY_MS = 24 * 60 * 60 * 1000;

export async function main(client: CertusOrdoClient, now: Date = new Date()) {
  const neverUsed: string[] = [];
  const inactive: string[] = [];

  // Periodically review and clean up unused agents
  for await (const agent of client.agents.list()) {
    if (agent.status === 'revoked') continue;
    if (agent.lastAuthAt === null) {
      console.log(`Never used: ${agent.name}`);
      neverUsed.push(agent.name);
    } else if ((now.getTime() - agent.lastAuthAt.getTime()) / DAY_MS > 90) {
      console.log(`Inactive 90+ days: ${agent.name}`);
      inactive.push(agent.name);
    }
  }

  // The same questions, answered by the server's filters
  const neverUsedServer: string[] = [];
  for await (const a of client.agents.list({ neverAuthenticated: true })) if (a.status !== 'revoked') neverUsedServer.push(a.name);
  const inactiveServer: string[] = [];
  for await (const a of client.agents.list({ inactiveSince: new Date(now.getTime() - 90 * DAY_MS) })) if (a.status !== 'revoked') inactiveServer.push(a.name);

  return { neverUsed, inactive, neverUsedServer, inactiveServer };
}

if (require.main === module) runStandalone((client) => main(client));
