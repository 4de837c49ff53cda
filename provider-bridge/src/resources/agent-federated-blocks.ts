/**
 * certusordo_agent's `federated_credential` blocks: the credentials the agent's configuration
 * declares inline, tracked by their ids.
 *
 * The nesting is a SET: a credential has no order and no update, so a change is a removal plus an
 * addition, which is how Terraform renders a set's diff; a list would make order significant and
 * shift every later block (and its id) when an earlier one is removed.
 *
 * Ownership (documented in the resource notes): the blocks manage exactly the credentials their
 * state lists by id. Credentials added otherwise (certusordo_agent_federated_credential, the API)
 * are never read into the agent's state, so they cause no drift and are never removed by it. The
 * one exception is `terraform import`, whose state starts with no list (null): the agent's active
 * credentials are all read in.
 */
import { randomUUID } from 'node:crypto';
import { UNKNOWN, isUnknown, type TfObject, type TfValue } from '../codec/values';
import type { WireFederatedCredential } from '../../../sdk/src/core/wire';
import { FEDERATED_CREDENTIALS_MAX } from '../../../model/federation';
import { diagFromError, type Diagnostic } from '../diag';
import { useStateForUnknown } from '../plan/modifiers';
import { str, type NestedBlockSchema } from '../schema/types';
import { credentialDiagnostics, credentialFieldSchemas, credentialFields, describesSame, toCreateInput } from './federated-credential-model';
import type { ProviderData } from './types';

export const FEDERATED_BLOCK = 'federated_credential';

/** The block's objects, or null when unknown or absent. */
function objects(v: TfValue | undefined): TfObject[] | null {
  return Array.isArray(v) ? (v as TfObject[]) : null;
}

/**
 * Each configured credential is planned as the prior object it describes (same fields, JSON compared
 * as values, an unset audience matching the default), so an unchanged block plans no change; a new
 * one gets an unknown id (and audience when unset).
 */
export function planCredentialBlocks(prior: TfValue, config: TfValue): TfValue {
  const wanted = objects(config);
  if (wanted === null) return config ?? [];
  const available = [...(objects(prior) ?? [])];
  return wanted.map((c): TfValue => {
    if (isUnknown(c)) return c;
    const i = available.findIndex((p) => describesSame(c, p));
    if (i >= 0) return available.splice(i, 1)[0]!;
    return { ...c, id: UNKNOWN, audience: c.audience ?? UNKNOWN };
  });
}

export const federatedCredentialBlock: NestedBlockSchema = {
  nesting: 'set',
  maxItems: FEDERATED_CREDENTIALS_MAX,
  plan: planCredentialBlocks,
  block: {
    description:
      'A federated credential of the agent: a workload whose platform token authenticates it instead of a key (workload identity federation). With at least one block and no `public_key` the agent has no key and no secret at all. Changing a block removes that credential and adds the new one (the new one first), never the agent. See "Inline blocks or certusordo_agent_federated_credential" below.',
    attributes: {
      id: { type: str, computed: true, description: 'Credential id assigned by the control plane.', planModifiers: [useStateForUnknown()] },
      ...credentialFieldSchemas('Changing it replaces this credential, not the agent.'),
    },
  },
};

/** True when the configuration declares at least one credential (so no key is generated). */
export function declaresCredentials(config: TfObject): boolean {
  return (objects(config[FEDERATED_BLOCK])?.length ?? 0) > 0;
}

export function credentialBlockDiagnostics(config: TfObject): Diagnostic[] {
  return (objects(config[FEDERATED_BLOCK]) ?? []).flatMap((c) => (isUnknown(c) ? [] : credentialDiagnostics(c, [FEDERATED_BLOCK])));
}

/** The planned blocks as the `federated_credentials` of POST /v1/agents. */
export function createInputs(planned: TfObject): ReturnType<typeof toCreateInput>[] {
  return (objects(planned[FEDERATED_BLOCK]) ?? []).map(toCreateInput);
}

function stateObject(c: WireFederatedCredential, like: TfObject | null): TfObject {
  return { id: c.id, ...credentialFields(c, like) };
}

async function activeCredentials(p: ProviderData, agentId: string): Promise<WireFederatedCredential[]> {
  return (await p.client.listFederatedCredentials(agentId)).filter((c) => c.status === 'active');
}

/**
 * After POST /v1/agents: the created credentials, each matched to the planned block it came from.
 * Null (read them all in on the next refresh) when the list cannot be read.
 */
export async function createdCredentials(p: ProviderData, agentId: string, planned: TfObject): Promise<{ value: TfValue; diagnostics: Diagnostic[] }> {
  const wanted = objects(planned[FEDERATED_BLOCK]) ?? [];
  if (wanted.length === 0) return { value: [], diagnostics: [] };
  try {
    const available = await activeCredentials(p, agentId);
    const value = wanted.flatMap((w) => {
      const i = available.findIndex((c) => describesSame(w, stateObject(c, w)));
      return i >= 0 ? [stateObject(available.splice(i, 1)[0]!, w)] : [];
    });
    return { value, diagnostics: [] };
  } catch (err) {
    return { value: null, diagnostics: [diagFromError(err, `read the federated credentials of agent ${agentId}`)] };
  }
}

/** Refresh: the tracked credentials still active (all active ones after import, when the list is null). */
export async function readCredentials(p: ProviderData, agentId: string, tracked: TfValue): Promise<TfValue> {
  const mine = objects(tracked);
  if (mine !== null && mine.length === 0) return [];
  const active = await activeCredentials(p, agentId);
  if (mine === null) return active.map((c) => stateObject(c, null));
  return mine.flatMap((m) => {
    const c = active.find((a) => a.id === m.id);
    return c ? [stateObject(c, m)] : [];
  });
}

/**
 * Update: add the planned credentials without an id, then remove the prior ones no longer planned.
 * Adding first keeps the agent's one-credential-or-key invariant when its only credential changes.
 * On an error the result lists what really exists: prior minus removed plus added.
 */
export async function reconcileCredentials(p: ProviderData, agentId: string, prior: TfObject, planned: TfObject): Promise<{ value: TfValue; diagnostics: Diagnostic[] }> {
  const had = objects(prior[FEDERATED_BLOCK]) ?? [];
  const want = objects(planned[FEDERATED_BLOCK]) ?? [];
  const keep = new Set(want.map((w) => w.id).filter((id): id is string => typeof id === 'string'));
  const result: TfObject[] = [...had];
  for (const w of want.filter((x) => typeof x.id !== 'string')) {
    try {
      const c = await p.client.createFederatedCredential(agentId, toCreateInput(w), randomUUID());
      p.logger.info('added federated credential', { agent_id: agentId, credential_id: c.id });
      result.push(stateObject(c, w));
    } catch (err) {
      return { value: result, diagnostics: [diagFromError(err, `add a federated credential (issuer ${String(w.issuer)}) to agent ${agentId}`)] };
    }
  }
  for (const h of had.filter((x) => typeof x.id === 'string' && !keep.has(x.id))) {
    try {
      await p.client.removeFederatedCredential(agentId, h.id as string);
      p.logger.info('removed federated credential', { agent_id: agentId, credential_id: String(h.id) });
      result.splice(result.indexOf(h), 1);
    } catch (err) {
      return { value: result, diagnostics: [diagFromError(err, `remove federated credential ${String(h.id)} of agent ${agentId}`)] };
    }
  }
  return { value: result, diagnostics: [] };
}
