/**
 * certusordo_agent_key: one key of an agent. Create = POST /v1/agents/{id}/keys, destroy =
 * DELETE /v1/agents/{id}/keys/{kid} (refused by the control plane for the agent's last active key),
 * import by `<agent_id>/<kid>`. Nothing updates in place except recording `rotation_trigger`.
 *
 * Rotation: a change of `rotation_trigger` replaces the key; with `create_before_destroy` Terraform
 * adds the new key before it removes the old one, so the agent keeps its id and always has a key.
 */
import { createHash, randomUUID } from 'node:crypto';
import { UNKNOWN, asString, isUnknown, type TfObject, type TfValue } from '../codec/values';
import type { WireAgentKey as AgentKey } from '../../../sdk/src/core/wire';
import { ConflictError, NotFoundError } from '../../../sdk/src/core/errors';
import { diagFromError, error, warning, type Diagnostic } from '../diag';
import { requiresReplace, requiresReplaceIf, useStateForUnknown } from '../plan/modifiers';
import { mapOf, str, type SchemaDef } from '../schema/types';
import { PUBLIC_KEY_RULE, publicKeyViolations } from '../../../model/agent';
import { AGENT_SECRET_RULE } from '../../../model/agent-secret';
import { capitalize } from './agent-model';
import type { PlanAdjustment, PlanRequest, ResourceDefinition, StateResult } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const agentKeySchema = {
  version: 0,
  block: {
    description:
      'One key of an agent. Adding a key leaves the agent and its other keys untouched; with `lifecycle { create_before_destroy = true }` a change of `rotation_trigger` adds the new key before the old one is removed, so the agent keeps its id and never has zero keys. Destroying the resource removes the key (`DELETE /v1/agents/{id}/keys/{kid}`): it can no longer obtain tokens, while tokens already issued stay valid until they expire. The control plane refuses to remove an agent\'s last active key.',
    attributes: {
      id: {
        type: str,
        computed: true,
        description: '`<agent_id>/<kid>`, the import id.',
        planModifiers: [useStateForUnknown()],
      },
      agent_id: {
        type: str,
        required: true,
        description: 'Id of the agent the key belongs to, usually `certusordo_agent.<name>.id`. Changing it replaces the key.',
        planModifiers: [requiresReplace()],
      },
      public_key: {
        type: str,
        optional: true,
        computed: true,
        description: `${capitalize(PUBLIC_KEY_RULE)}. Set it to bring your own key (then no \`secret\` is issued); leave it unset to let the control plane generate the key pair. Changing it replaces the key.`,
        planModifiers: [useStateForUnknown(), requiresReplace()],
      },
      kid: {
        type: str,
        computed: true,
        description: 'Key id: the RFC 7638 JWK thumbprint of the public key (the `kid` of the agent\'s client assertions). Known at plan time when `public_key` is set.',
        planModifiers: [useStateForUnknown()],
      },
      secret: {
        type: str,
        computed: true,
        sensitive: true,
        description:
          `Agent credential for this key (\`${AGENT_SECRET_RULE}\`), only when the control plane generated the key, and only in the state of the apply that created it. Null when \`public_key\` was brought and after \`terraform import\`. Treat the state as secret.`,
        planModifiers: [useStateForUnknown()],
      },
      created_at: {
        type: str,
        computed: true,
        description: 'Creation time of the key (RFC 3339).',
        planModifiers: [useStateForUnknown()],
      },
      rotation_trigger: {
        type: mapOf(str),
        optional: true,
        description:
          'Arbitrary map of values that, when changed, replaces the key (a rotation), like `keepers` in the `random` provider. Combine it with `lifecycle { create_before_destroy = true }`. Setting it for the first time (for example after `terraform import`) only records it.',
        planModifiers: [
          requiresReplaceIf('Changing a previously set value replaces the key.', (req) => req.priorValue !== null),
        ],
      },
    },
  },
} satisfies SchemaDef;

/** RFC 7638 thumbprint of an Ed25519 public key (base64url x): the control plane's `kid`. */
export function ed25519Kid(publicKey: string): string {
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${publicKey}"}`).digest('base64url');
}

/** `<agent_id>/<kid>`; null when the id is not of that shape. */
export function parseKeyImportId(id: string): { agentId: string; kid: string } | null {
  const m = /^([^/\s]+)\/([A-Za-z0-9_-]{1,100})$/.exec(id.trim());
  if (!m || !UUID.test(m[1]!)) return null;
  return { agentId: m[1]!.toLowerCase(), kid: m[2]! };
}

function validate(config: TfObject): Diagnostic[] {
  const out: Diagnostic[] = [];
  const agentId = config.agent_id;
  if (typeof agentId === 'string' && !UUID.test(agentId)) {
    out.push(error('Invalid agent id', `agent_id "${agentId}" is not an agent id (a UUID). Use \`certusordo_agent.<name>.id\`.`, ['agent_id']));
  }
  const key = config.public_key;
  if (typeof key === 'string') {
    for (const v of publicKeyViolations(key, '`public_key`')) {
      out.push(error('Invalid public key', `${v}. Leave \`public_key\` unset to let the control plane generate a key pair.`, ['public_key']));
    }
  }
  return out;
}

function plannedFromKey(res: PlanAdjustment, config: TfObject): void {
  const key = config.public_key ?? null;
  res.planned.secret = key === null || isUnknown(key) ? UNKNOWN : null;
  res.planned.kid = typeof key === 'string' ? ed25519Kid(key) : UNKNOWN;
  const agentId = config.agent_id ?? null;
  res.planned.id = typeof agentId === 'string' && typeof key === 'string' ? `${agentId}/${ed25519Kid(key)}` : UNKNOWN;
  res.planned.created_at = UNKNOWN;
  if (key === null) res.planned.public_key = UNKNOWN;
}

function modifyPlan(req: PlanRequest, res: PlanAdjustment): PlanAdjustment {
  if (req.prior === null || res.requiresReplace.length > 0) plannedFromKey(res, req.config);
  return res;
}

function toState(agentId: string, key: AgentKey, extra: { secret: TfValue; rotation_trigger: TfValue }): TfObject {
  return {
    id: `${agentId}/${key.kid}`,
    agent_id: agentId,
    public_key: key.public_key,
    kid: key.kid,
    secret: extra.secret ?? null,
    created_at: key.created_at,
    rotation_trigger: extra.rotation_trigger ?? null,
  };
}

const LAST_KEY_FIX =
  'The control plane refuses to leave an agent without an active key. To rotate, add the new key first: set `lifecycle { create_before_destroy = true }` on this resource (or add another certusordo_agent_key and apply) before removing this one. To retire the agent altogether, destroy its certusordo_agent (revocation ends all its keys); if that resource is being destroyed in the same run, remove this key from state first (`terraform state rm <address>`).';

export const agentKeyResource = {
  typeName: 'certusordo_agent_key',
  schema: agentKeySchema,
  validate,
  modifyPlan,

  async create(p, planned): Promise<StateResult> {
    const agentId = asString(planned.agent_id) ?? '';
    const publicKey = asString(planned.public_key);
    // One idempotency key per logical create, made before the client's retry loop.
    const idempotencyKey = randomUUID();
    try {
      const key = await p.client.createAgentKey(agentId, publicKey ? { public_key: publicKey } : {}, idempotencyKey);
      p.logger.info('added agent key', { agent_id: agentId, kid: key.kid });
      const diagnostics: Diagnostic[] = [];
      if (!publicKey && !key.secret) {
        diagnostics.push(
          warning(
            'Key secret unavailable',
            `A key (${key.kid}) was added to agent ${agentId}, but the response carrying its one-time secret was lost and the retried request was answered from the control plane's idempotency replay, which never includes secrets. \`secret\` is null. Replace the key to get one: terraform apply -replace=<address>.`,
          ),
        );
      }
      return { state: toState(agentId, key, { secret: key.secret ?? null, rotation_trigger: planned.rotation_trigger ?? null }), diagnostics };
    } catch (err) {
      return { state: null, diagnostics: [diagFromError(err, `add a key to agent ${agentId}`)] };
    }
  },

  async read(p, state, priv): Promise<StateResult> {
    const agentId = asString(state.agent_id);
    const kid = asString(state.kid);
    if (!agentId || !kid) return { state: null, diagnostics: [] };
    try {
      const keys = await p.client.listAgentKeys(agentId);
      const key = keys.find((k) => k.kid === kid);
      if (!key || key.status !== 'active') {
        p.logger.info('agent key removed outside Terraform; dropping it from state', { agent_id: agentId, kid });
        return { state: null, diagnostics: [], private: priv };
      }
      return { state: toState(agentId, key, { secret: state.secret ?? null, rotation_trigger: state.rotation_trigger ?? null }), diagnostics: [], private: priv };
    } catch (err) {
      if (err instanceof NotFoundError) return { state: null, diagnostics: [], private: priv };
      return { state, diagnostics: [diagFromError(err, `read key ${kid} of agent ${agentId}`)], private: priv };
    }
  },

  /** Only `rotation_trigger` can change without a replacement (its first setting is recorded). */
  async update(_p, prior, planned): Promise<StateResult> {
    return { state: { ...prior, rotation_trigger: planned.rotation_trigger ?? null }, diagnostics: [] };
  },

  async delete(p, prior): Promise<StateResult> {
    const agentId = asString(prior.agent_id);
    const kid = asString(prior.kid);
    if (!agentId || !kid) return { state: null, diagnostics: [] };
    try {
      await p.client.removeAgentKey(agentId, kid);
      p.logger.info('removed agent key', { agent_id: agentId, kid });
      return { state: null, diagnostics: [] };
    } catch (err) {
      if (err instanceof NotFoundError) return { state: null, diagnostics: [] };
      if (err instanceof ConflictError) {
        return {
          state: prior,
          diagnostics: [error('Cannot remove the agent\'s last active key', `Key ${kid} is the last active key of agent ${agentId}. ${LAST_KEY_FIX}`)],
        };
      }
      return { state: prior, diagnostics: [diagFromError(err, `remove key ${kid} of agent ${agentId}`)] };
    }
  },

  async importState(_p, id): Promise<StateResult> {
    const parsed = parseKeyImportId(id);
    if (!parsed) {
      return {
        state: null,
        diagnostics: [error('Invalid import id', 'Import certusordo_agent_key with `<agent_id>/<kid>`, for example `01a214bb-6b6a-7000-b305-28c3c7f6620b/Jx1b…`. The kids of an agent are listed by `GET /v1/agents/{id}/keys`.')],
      };
    }
    const stub: Record<string, TfValue> = {};
    for (const name of Object.keys(agentKeySchema.block.attributes)) stub[name] = null;
    stub.agent_id = parsed.agentId;
    stub.kid = parsed.kid;
    stub.id = `${parsed.agentId}/${parsed.kid}`;
    return { state: stub, diagnostics: [] };
  },
} satisfies ResourceDefinition;
