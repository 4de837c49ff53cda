/**
 * certusordo_agent: one agent identity. Create = POST /v1/agents (+ suspend when planned),
 * update = PATCH + suspend/activate, destroy = revoke (permanent), import by id.
 *
 * Federated credentials: inline `federated_credential` blocks (agent-federated-blocks.ts); with
 * them and no `public_key` the agent is created with no key, so no secret is planned or stored.
 *
 * Drift rules (see docs): an unset `status` keeps whatever the control plane has (a runtime
 * suspension survives apply); a set `status` is enforced. An agent revoked outside Terraform
 * is planned for replacement; one deleted outside (404) drops out of state.
 */
import { randomUUID } from 'node:crypto';
import { UNKNOWN, asString, asStringList, asStringMap, isUnknown, valuesEqual, type TfObject, type TfValue } from '../codec/values';
import type { WireAgent as Agent, WireAgentUpdate as AgentPatch } from '../../../sdk/src/core/wire';
import { NotFoundError } from '../../../sdk/src/core/errors';
import { diagFromError, error, warning, type Diagnostic } from '../diag';
import { requiresReplace, requiresReplaceIf, useStateForUnknown } from '../plan/modifiers';
import { mapOf, setOf, str, type SchemaDef } from '../schema/types';
import { METADATA_RULE, NAME_RULE, PUBLIC_KEY_RULE, SCOPE_RULE, SCOPES_RULE } from '../../../model/agent';
import { AGENT_SECRET_RULE } from '../../../model/agent-secret';
import { managedAgentStatusViolation, MANAGED_AGENT_STATUS_RULE } from '../../../model/statuses';
import { agentAttributes, agentFieldDiagnostics, capitalize, MAY_ACT_DESCRIPTION } from './agent-model';
import {
  createdCredentials,
  createInputs,
  credentialBlockDiagnostics,
  declaresCredentials,
  FEDERATED_BLOCK,
  federatedCredentialBlock,
  readCredentials,
  reconcileCredentials,
} from './agent-federated-blocks';
import type { PlanAdjustment, PlanRequest, ProviderData, ResourceDefinition, StateResult } from './types';

export const agentSchema = {
  version: 0,
  block: {
    description:
      'An agent identity in CertusOrdo. Destroying the resource **revokes** the agent, which is permanent: a revoked agent can never authenticate again and is not reactivated by a later apply (Terraform creates a new agent instead).',
    attributes: {
      id: {
        type: str,
        computed: true,
        description: 'Agent id (UUID) assigned by the control plane.',
        planModifiers: [useStateForUnknown()],
      },
      name: {
        type: str,
        required: true,
        description: `Human-readable name, unique among the organization's non-revoked agents. ${capitalize(NAME_RULE)}. Updated in place.`,
      },
      scopes: {
        type: setOf(str),
        optional: true,
        computed: true,
        default: [],
        description: `Permitted operations, each ${SCOPE_RULE}; ${SCOPES_RULE}. Defaults to an empty set. Updated in place.`,
      },
      metadata: {
        type: mapOf(str),
        optional: true,
        computed: true,
        default: {},
        description: `String key/value pairs: ${METADATA_RULE}. Defaults to an empty map. Replaced as a whole on update, in place.`,
      },
      public_key: {
        type: str,
        optional: true,
        computed: true,
        description: `${capitalize(PUBLIC_KEY_RULE)}. Set it to bring your own key (then no \`secret\` is issued); leave it unset to let the control plane generate a key pair, unless the agent declares \`federated_credential\` blocks: then it has no key (null) and no secret. Changing it replaces the agent.`,
        planModifiers: [useStateForUnknown(), requiresReplace()],
      },
      secret: {
        type: str,
        computed: true,
        sensitive: true,
        description: `Agent credential (\`${AGENT_SECRET_RULE}\`), only known when the control plane generated the key, and only in the state of the apply that created the agent. Null (planned as null, never as unknown) when \`public_key\` was brought or the agent declares \`federated_credential\` blocks (a secretless agent); null after \`terraform import\`. Treat the state as secret.`,
        planModifiers: [useStateForUnknown()],
      },
      status: {
        type: str,
        optional: true,
        computed: true,
        description:
          `${MANAGED_AGENT_STATUS_RULE}. When set, Terraform enforces it. When unset, Terraform leaves the status alone: a suspension made at runtime (for example by an operator over the API) is kept. An agent revoked outside Terraform is replaced on the next apply.`,
        planModifiers: [useStateForUnknown()],
      },
      rotation_trigger: {
        type: mapOf(str),
        optional: true,
        description:
          'Arbitrary map of values that, when changed, replaces the agent (and so rotates its key), like `keepers` in the `random` provider. Setting it for the first time (for example after `terraform import`) only records it.',
        planModifiers: [
          requiresReplaceIf(
            'Changing a previously set value replaces the resource.',
            (req) => req.priorValue !== null,
          ),
        ],
      },
      created_at: {
        type: str,
        computed: true,
        description: 'Creation time (RFC 3339).',
        planModifiers: [useStateForUnknown()],
      },
      last_auth_at: {
        type: str,
        computed: true,
        description: 'Time of the agent\'s last successful authentication (RFC 3339), or null if it never authenticated. Refreshed on every read.',
      },
      may_act: {
        type: setOf(str),
        computed: true,
        description: MAY_ACT_DESCRIPTION,
      },
    },
    blocks: { [FEDERATED_BLOCK]: federatedCredentialBlock },
  },
} satisfies SchemaDef;

function validate(config: TfObject): Diagnostic[] {
  const out = [...agentFieldDiagnostics(config), ...credentialBlockDiagnostics(config)];
  const status = config.status;
  const violation = typeof status === 'string' ? managedAgentStatusViolation(status) : null;
  if (violation) out.push(error('Invalid agent status', `${capitalize(violation)}.`, ['status']));
  return out;
}

/**
 * Planned secret: unknown only when the server will generate the key. Null when the key is brought,
 * and null when federated credentials are declared: then the server generates no key whether or
 * not a (still unknown) `public_key` turns out to be set, so a secretless agent's plan never shows
 * a secret, not even "(known after apply)".
 */
function plannedSecret(config: TfObject): TfValue {
  const key = config.public_key ?? null;
  if (declaresCredentials(config)) return null;
  if (key === null || isUnknown(key)) return UNKNOWN;
  return null;
}

/** Planned public key of a new agent: null for a secretless one (credentials, no key), else as configured or unknown. */
function plannedPublicKey(config: TfObject): TfValue {
  const key = config.public_key ?? null;
  if (key !== null) return key;
  return declaresCredentials(config) ? null : UNKNOWN;
}

/**
 * An unset `status` leaves a runtime suspension alone, so the plan is empty; the warning makes the
 * suspended identity visible to whoever reviews the plan.
 */
export function suspendedWarning(prior: TfObject): Diagnostic {
  const name = asString(prior.name) ?? '';
  const id = asString(prior.id) ?? '';
  return warning(
    `Agent "${name}" is suspended`,
    `Agent "${name}" (${id}) was suspended outside Terraform; it cannot obtain tokens. \`status\` is not set in the configuration, so Terraform leaves it suspended and plans no change. Reactivate it over the API (POST /v1/agents/${id}/activate), or set \`status = "active"\` to have Terraform enforce it.`,
  );
}

function modifyPlan(req: PlanRequest, res: PlanAdjustment): PlanAdjustment {
  const planned = res.planned;
  const configStatus = req.config.status ?? null;
  if (req.prior !== null && configStatus === null && req.prior.status === 'suspended' && res.requiresReplace.length === 0) {
    res.diagnostics.push(suspendedWarning(req.prior));
  }
  if (req.prior === null) {
    if (configStatus === null) planned.status = 'active';
    planned.secret = plannedSecret(req.config);
    planned.public_key = plannedPublicKey(req.config);
    return res;
  }
  // Revoked outside Terraform: revocation is permanent, so the only way back to the
  // configured state is a new agent.
  if (req.prior.status === 'revoked') {
    planned.status = configStatus ?? 'active';
    if (!res.requiresReplace.some((p) => p[0] === 'status')) res.requiresReplace.push(['status']);
  }
  if (res.requiresReplace.length > 0) {
    // Show what a new agent really gets instead of the old agent's server-assigned values.
    planned.id = UNKNOWN;
    planned.created_at = UNKNOWN;
    planned.last_auth_at = UNKNOWN;
    planned.may_act = UNKNOWN;
    planned.secret = plannedSecret(req.config);
    planned.public_key = plannedPublicKey(req.config);
    // A new agent gets new credentials: none of the old ids carries over.
    planned[FEDERATED_BLOCK] = planCredentialsAnew(req.config);
    if (configStatus === null) planned.status = 'active';
  }
  return res;
}

/** The blocks as a new agent gets them (a replacement): every credential created again. */
function planCredentialsAnew(config: TfObject): TfValue {
  return federatedCredentialBlock.plan!(null, config[FEDERATED_BLOCK] ?? null);
}

interface StateExtra {
  secret: TfValue;
  rotation_trigger: TfValue;
  federated_credential: TfValue;
}

function toState(agent: Agent, extra: StateExtra): TfObject {
  return {
    ...agentAttributes(agent),
    secret: extra.secret ?? null,
    rotation_trigger: extra.rotation_trigger ?? null,
    [FEDERATED_BLOCK]: extra.federated_credential === undefined ? [] : extra.federated_credential,
  };
}

async function applyStatus(p: ProviderData, agent: Agent, want: TfValue): Promise<Agent> {
  if (want === 'suspended' && agent.status === 'active') return p.client.suspendAgent(agent.id, 'terraform: status = "suspended"');
  if (want === 'active' && agent.status === 'suspended') return p.client.activateAgent(agent.id, 'terraform: status = "active"');
  return agent;
}

/**
 * The API reports an agent's newest active key as its `public_key`, so a key added by
 * certusordo_agent_key would show here as a changed (for a brought key: replacing) public key.
 * This resource tracks the key it created instead, for as long as that key is active; only then is
 * the key list read (one extra GET, only when the reported key differs). Once that key has been
 * removed, `public_key` follows the agent's newest key and the stale `secret` becomes null.
 */
export async function keyOfState(p: ProviderData, agent: Agent, state: TfObject): Promise<{ public_key: string | null; secret: TfValue }> {
  const own = asString(state.public_key);
  const secret = state.secret ?? null;
  if (!own || own === agent.public_key || agent.status === 'revoked') return { public_key: agent.public_key, secret };
  const keys = await p.client.listAgentKeys(agent.id);
  if (keys.some((k) => k.public_key === own && k.status === 'active')) return { public_key: own, secret };
  return { public_key: agent.public_key, secret: null };
}

/** `public_key` never changes in place (a change replaces), so an update keeps the planned one (see keyOfState). */
function keepKey(state: TfObject, planned: TfObject): TfObject {
  return typeof planned.public_key === 'string' ? { ...state, public_key: planned.public_key } : state;
}

export const agentResource = {
  typeName: 'certusordo_agent',
  schema: agentSchema,
  validate,
  modifyPlan,

  async create(p, planned): Promise<StateResult> {
    const name = asString(planned.name) ?? '';
    const publicKey = asString(planned.public_key);
    // One key per logical create, made before the client's retry loop: a retried POST is
    // replayed by the server instead of creating a second agent.
    const idempotencyKey = randomUUID();
    const federated = createInputs(planned);
    let agent: Agent & { secret?: string };
    try {
      agent = await p.client.createAgent(
        {
          name,
          scopes: asStringList(planned.scopes) ?? [],
          metadata: asStringMap(planned.metadata) ?? {},
          ...(publicKey ? { public_key: publicKey } : {}),
          ...(federated.length ? { federated_credentials: federated } : {}),
        },
        idempotencyKey,
      );
    } catch (err) {
      return { state: null, diagnostics: [diagFromError(err, `create agent "${name}"`)] };
    }
    p.logger.info('created agent', { agent_id: agent.id, name });
    const credentials = await createdCredentials(p, agent.id, planned);
    // A secretless agent (credentials, no key) never has a secret: null in state, as planned.
    const extra = { secret: agent.secret ?? null, rotation_trigger: planned.rotation_trigger ?? null, federated_credential: credentials.value };
    const diagnostics: Diagnostic[] = [...credentials.diagnostics];
    if (!publicKey && federated.length === 0 && !agent.secret) {
      // Only an idempotent replay (our retry after a lost response) lacks the secret:
      // the control plane never stores or replays it.
      diagnostics.push(
        warning(
          'Agent secret unavailable',
          `Agent "${name}" (${agent.id}) was created, but the response carrying its one-time secret was lost and the retried request was answered from the control plane's idempotency replay, which never includes secrets. \`secret\` is null. To get a secret, replace the agent: terraform apply -replace=<address>.`,
        ),
      );
    }
    try {
      const final = await applyStatus(p, agent, planned.status ?? null);
      return { state: toState(final, extra), diagnostics };
    } catch (err) {
      // The agent exists: return it so Terraform tracks it, with the error.
      return { state: toState(agent, extra), diagnostics: [...diagnostics, diagFromError(err, `set status of agent "${name}"`)] };
    }
  },

  async read(p, state, priv): Promise<StateResult> {
    const id = asString(state.id);
    if (!id) return { state: null, diagnostics: [] };
    try {
      const agent = await p.client.findAgent(id);
      if (!agent) {
        p.logger.info('agent no longer exists; removing from state', { agent_id: id });
        return { state: null, diagnostics: [], private: priv };
      }
      const key = await keyOfState(p, agent, state);
      // A revoked agent is replaced on the next apply; its credentials need no request.
      const tracked = state[FEDERATED_BLOCK] ?? null;
      const federated = agent.status === 'revoked' && tracked !== null ? tracked : await readCredentials(p, agent.id, tracked);
      return {
        state: { ...toState(agent, { secret: key.secret, rotation_trigger: state.rotation_trigger ?? null, federated_credential: federated }), public_key: key.public_key },
        diagnostics: [],
        private: priv,
      };
    } catch (err) {
      return { state, diagnostics: [diagFromError(err, `read agent ${id}`)], private: priv };
    }
  },

  async update(p, prior, planned): Promise<StateResult> {
    const id = asString(prior.id) ?? '';
    const t = agentSchema.block.attributes;
    const patch: AgentPatch = {};
    if (!valuesEqual(t.name.type, planned.name, prior.name)) patch.name = asString(planned.name) ?? undefined;
    if (!valuesEqual(t.scopes.type, planned.scopes, prior.scopes)) patch.scopes = asStringList(planned.scopes) ?? [];
    if (!valuesEqual(t.metadata.type, planned.metadata, prior.metadata)) patch.metadata = asStringMap(planned.metadata) ?? {};
    const extra: StateExtra = { secret: prior.secret ?? null, rotation_trigger: planned.rotation_trigger ?? null, federated_credential: prior[FEDERATED_BLOCK] ?? [] };
    let agent: Agent | null = null;
    try {
      agent = Object.keys(patch).length > 0 ? await p.client.updateAgent(id, patch) : await p.client.getAgent(id);
      agent = await applyStatus(p, agent, planned.status ?? null);
      const credentials = await reconcileCredentials(p, id, prior, planned);
      extra.federated_credential = credentials.value;
      return { state: keepKey(toState(agent, extra), planned), diagnostics: credentials.diagnostics };
    } catch (err) {
      const diag = diagFromError(err, `update agent ${id}`);
      return { state: agent ? keepKey(toState(agent, extra), planned) : prior, diagnostics: [diag] };
    }
  },

  async delete(p, prior): Promise<StateResult> {
    const id = asString(prior.id);
    if (!id) return { state: null, diagnostics: [] };
    try {
      await p.client.revokeAgent(id, 'terraform destroy');
      p.logger.info('revoked agent', { agent_id: id });
      return { state: null, diagnostics: [] };
    } catch (err) {
      if (err instanceof NotFoundError) return { state: null, diagnostics: [] };
      return { state: prior, diagnostics: [diagFromError(err, `revoke agent ${id}`)] };
    }
  },

  async importState(_p, id): Promise<StateResult> {
    const stub: Record<string, TfValue> = {};
    for (const name of Object.keys(agentSchema.block.attributes)) stub[name] = null;
    // No list yet: the refresh that follows reads all the agent's active credentials in.
    stub[FEDERATED_BLOCK] = null;
    stub.id = id.trim();
    return { state: stub, diagnostics: [] };
  },
} satisfies ResourceDefinition;
