/**
 * Lets each example run on its own (`node dist/examples/sdk/<name>.js`, see README.md) while
 * exporting `main(client)` for the tests. The client reads CERTUSORDO_API_KEY and
 * CERTUSORDO_ENDPOINT.
 *
 * A standalone run revokes the agents it created when it ends (pass `--keep` to keep them): agent
 * names are unique among an organization's non-revoked agents, so without this the second run of
 * an example, or the next example using the same name, would fail with a conflict.
 */
import { CertusOrdoClient } from '@certusordo/sdk';

export function runStandalone(main: (client: CertusOrdoClient, ...args: string[]) => Promise<unknown>): Promise<void> {
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const created: string[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (res.status === 201 && (init?.method ?? 'GET').toUpperCase() === 'POST' && url.pathname === '/v1/agents') {
      const body = (await res.clone().json()) as { id?: unknown };
      if (typeof body.id === 'string') created.push(body.id);
    }
    return res;
  };
  const client = new CertusOrdoClient({ fetch: recordingFetch });
  return main(client, ...args.filter((a) => a !== '--keep'))
    .catch((err: unknown) => {
      console.error(String(err));
      process.exitCode = 1;
    })
    .then(() => undefined)
    .finally(async () => {
      if (keep || created.length === 0) return;
      for (const id of created) await client.agents.revoke(id, 'example clean-up').catch(() => undefined);
      console.error(`Cleaned up: revoked the ${created.length} agent(s) this example created (run it with --keep to keep them).`);
    });
}
