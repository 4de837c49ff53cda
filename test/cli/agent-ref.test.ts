/**
 * `<agent>` arguments: a UUID in any letter case is an id, forwarded in its canonical (lowercase)
 * spelling, the one the control plane names the agent by; anything else is a name, looked up.
 */
import { randomUUID } from 'node:crypto';
import type { CertusOrdoClient } from '../../sdk/src';
import { resolveAgentId } from '../../cli/commands/agent-ref';

/** A client whose only call is the lookup by name, answering `agents`. */
function clientListing(agents: Array<{ id: string; status: string }>): { client: CertusOrdoClient; names: string[] } {
  const names: string[] = [];
  const listPage = async ({ name }: { name: string }) => {
    names.push(name);
    return { data: agents, next_cursor: null };
  };
  return { client: { agents: { listPage } } as unknown as CertusOrdoClient, names };
}

test('an id typed in capitals or mixed case is forwarded in lowercase, without a lookup', async () => {
  const id = randomUUID();
  const { client, names } = clientListing([]);
  for (const typed of [id, id.toUpperCase(), id.replace(/[a-f]/, (c) => c.toUpperCase())]) {
    expect(await resolveAgentId(client, typed)).toBe(id);
  }
  expect(names).toEqual([]);
});

test('anything else is a name, looked up as typed', async () => {
  const id = randomUUID();
  const { client, names } = clientListing([{ id, status: 'active' }]);
  expect(await resolveAgentId(client, 'Billing-Bot')).toBe(id);
  expect(await resolveAgentId(client, `${id.toUpperCase()}x`)).toBe(id);
  expect(names).toEqual(['Billing-Bot', `${id.toUpperCase()}x`]);
});
