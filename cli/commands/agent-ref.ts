/**
 * An agent named on the command line. An argument shaped like a UUID is an id; anything else is
 * the name of a non-revoked agent (names are unique among them, so a name names at most one).
 * Revoked agents keep their names but are found by id only: a name may since belong to another.
 */
import { CertusOrdoClient, NotFoundError } from '../../sdk/src';
import { canonicalUuid } from '../../model/ids';
import { isManagedAgentStatus } from '../../model/statuses';

/** What `<agent>` arguments and `--agent` options say in help texts. */
export const AGENT_REF_HELP = 'agent id, or the name of a non-revoked agent';

/**
 * The id of the agent `ref` names, in its canonical (lowercase) spelling, the one the control plane
 * names the agent by everywhere; NotFoundError (exit 3) when no non-revoked agent has that name.
 */
export async function resolveAgentId(client: CertusOrdoClient, ref: string): Promise<string> {
  const id = canonicalUuid(ref);
  if (id !== null) return id;
  const { data } = await client.agents.listPage({ name: ref });
  const live = data.find((a) => isManagedAgentStatus(a.status));
  if (live) return live.id;
  throw new NotFoundError(
    data.length
      ? `No non-revoked agent is named "${ref}" (a revoked one was: name it by its id)`
      : `No agent is named "${ref}" (and it is not an agent id)`,
    { status: 404 },
  );
}
