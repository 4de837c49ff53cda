/**
 * certusordo_agent_federated_credential: one federated credential of an agent, managed apart from
 * the agent. Create = POST /v1/agents/{id}/federated-credentials, destroy = DELETE …/{credential_id}
 * (refused by the control plane for the agent's last credential when it has no key), import by
 * `<agent_id>/<credential_id>`. The API has no update, so every field replaces the credential; the
 * JSON fields compare as JSON values, so reformatting them replaces nothing.
 */
import { randomUUID } from 'node:crypto';
import { UNKNOWN, asString, type TfObject, type TfValue } from '../codec/values';
import type { WireFederatedCredential } from '../../../sdk/src/core/wire';
import { NotFoundError } from '../../../sdk/src/core/errors';
import { jsonEqual } from '../../../model/federation';
import { diagFromError, error, type Diagnostic } from '../diag';
import { requiresReplace, useStateForUnknown, type PlanModifier } from '../plan/modifiers';
import { str, type SchemaDef } from '../schema/types';
import { credentialDiagnostics, credentialFieldSchemas, credentialFields, toCreateInput } from './federated-credential-model';
import type { PlanAdjustment, PlanRequest, ResourceDefinition, StateResult } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHANGE = 'Changing it replaces the credential (the API has no update).';

/** Plans the prior text when the configured JSON is the same value, so formatting is no change (and no replacement). */
function sameJsonAsPrior(): PlanModifier {
  return {
    description: 'Compared as JSON values.',
    modify(req) {
      const [a, b] = [req.plannedValue, req.priorValue];
      if (req.priorState === null || typeof a !== 'string' || typeof b !== 'string' || a === b) return { plannedValue: a };
      try {
        return { plannedValue: jsonEqual(JSON.parse(a), JSON.parse(b)) ? b : a };
      } catch {
        return { plannedValue: a };
      }
    },
  };
}

const fields = credentialFieldSchemas(CHANGE);

export const agentFederatedCredentialSchema = {
  version: 0,
  block: {
    description:
      'One federated credential of an agent (workload identity federation): the workload whose platform token (GitHub Actions OIDC, a Kubernetes service-account token, a SPIFFE JWT-SVID) authenticates the agent instead of a key. Adding one leaves the agent and its other keys and credentials untouched. Destroying the resource removes the credential at once; the control plane refuses to remove an agent\'s last credential when it has no key. Use it or the agent\'s inline `federated_credential` blocks for a given credential, not both (see the notes).',
    attributes: {
      id: { type: str, computed: true, description: '`<agent_id>/<credential_id>`, the import id.', planModifiers: [useStateForUnknown()] },
      agent_id: {
        type: str,
        required: true,
        description: 'Id of the agent, usually `certusordo_agent.<name>.id`. Changing it replaces the credential.',
        planModifiers: [requiresReplace()],
      },
      credential_id: { type: str, computed: true, description: 'Credential id assigned by the control plane.', planModifiers: [useStateForUnknown()] },
      issuer: { ...fields.issuer, planModifiers: [requiresReplace()] },
      subject: { ...fields.subject, planModifiers: [requiresReplace()] },
      audience: { ...fields.audience, planModifiers: [useStateForUnknown(), requiresReplace()] },
      claims_json: { ...fields.claims_json, planModifiers: [sameJsonAsPrior(), requiresReplace()] },
      jwks: { ...fields.jwks, planModifiers: [sameJsonAsPrior(), requiresReplace()] },
      created_at: { type: str, computed: true, description: 'Creation time of the credential (RFC 3339).', planModifiers: [useStateForUnknown()] },
    },
  },
} satisfies SchemaDef;

/** `<agent_id>/<credential_id>`; null when the id is not of that shape. */
export function parseCredentialImportId(id: string): { agentId: string; credentialId: string } | null {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(id.trim());
  if (!m || !UUID.test(m[1]!) || !UUID.test(m[2]!)) return null;
  return { agentId: m[1]!.toLowerCase(), credentialId: m[2]!.toLowerCase() };
}

function validate(config: TfObject): Diagnostic[] {
  const out = credentialDiagnostics(config, []);
  const agentId = config.agent_id;
  if (typeof agentId === 'string' && !UUID.test(agentId)) {
    out.push(error('Invalid agent id', `agent_id "${agentId}" is not an agent id (a UUID). Use \`certusordo_agent.<name>.id\`.`, ['agent_id']));
  }
  return out;
}

function modifyPlan(req: PlanRequest, res: PlanAdjustment): PlanAdjustment {
  if (req.prior === null || res.requiresReplace.length > 0) {
    res.planned.id = UNKNOWN;
    res.planned.credential_id = UNKNOWN;
    res.planned.created_at = UNKNOWN;
    if ((req.config.audience ?? null) === null) res.planned.audience = UNKNOWN;
  }
  return res;
}

function toState(agentId: string, c: WireFederatedCredential, like: TfObject | null): TfObject {
  return { id: `${agentId}/${c.id}`, agent_id: agentId, credential_id: c.id, ...credentialFields(c, like), created_at: c.created_at };
}

export const agentFederatedCredentialResource = {
  typeName: 'certusordo_agent_federated_credential',
  schema: agentFederatedCredentialSchema,
  validate,
  modifyPlan,

  async create(p, planned): Promise<StateResult> {
    const agentId = asString(planned.agent_id) ?? '';
    try {
      // One idempotency key per logical create, made before the client's retry loop.
      const c = await p.client.createFederatedCredential(agentId, toCreateInput(planned), randomUUID());
      p.logger.info('added federated credential', { agent_id: agentId, credential_id: c.id });
      return { state: toState(agentId, c, planned), diagnostics: [] };
    } catch (err) {
      return { state: null, diagnostics: [diagFromError(err, `add a federated credential to agent ${agentId}`)] };
    }
  },

  async read(p, state, priv): Promise<StateResult> {
    const agentId = asString(state.agent_id);
    const credentialId = asString(state.credential_id);
    if (!agentId || !credentialId) return { state: null, diagnostics: [], private: priv };
    try {
      const c = (await p.client.listFederatedCredentials(agentId)).find((x) => x.id === credentialId);
      if (!c || c.status !== 'active') {
        p.logger.info('federated credential removed outside Terraform; dropping it from state', { agent_id: agentId, credential_id: credentialId });
        return { state: null, diagnostics: [], private: priv };
      }
      // After import the JSON fields have no text yet: the canonical one (what jsonencode writes).
      const like = asString(state.created_at) ? state : null;
      return { state: toState(agentId, c, like), diagnostics: [], private: priv };
    } catch (err) {
      if (err instanceof NotFoundError) return { state: null, diagnostics: [], private: priv };
      return { state, diagnostics: [diagFromError(err, `read federated credential ${credentialId} of agent ${agentId}`)], private: priv };
    }
  },

  /** Every field replaces the credential, so an in-place update changes nothing. */
  async update(_p, _prior, planned): Promise<StateResult> {
    return { state: planned, diagnostics: [] };
  },

  async delete(p, prior): Promise<StateResult> {
    const agentId = asString(prior.agent_id);
    const credentialId = asString(prior.credential_id);
    if (!agentId || !credentialId) return { state: null, diagnostics: [] };
    try {
      await p.client.removeFederatedCredential(agentId, credentialId);
      p.logger.info('removed federated credential', { agent_id: agentId, credential_id: credentialId });
      return { state: null, diagnostics: [] };
    } catch (err) {
      if (err instanceof NotFoundError) return { state: null, diagnostics: [] };
      return { state: prior, diagnostics: [diagFromError(err, `remove federated credential ${credentialId} of agent ${agentId}`)] };
    }
  },

  async importState(_p, id): Promise<StateResult> {
    const parsed = parseCredentialImportId(id);
    if (!parsed) {
      return {
        state: null,
        diagnostics: [error('Invalid import id', 'Import certusordo_agent_federated_credential with `<agent_id>/<credential_id>`. An agent\'s credentials are listed by `GET /v1/agents/{id}/federated-credentials`.')],
      };
    }
    const stub: Record<string, TfValue> = {};
    for (const name of Object.keys(agentFederatedCredentialSchema.block.attributes)) stub[name] = null;
    stub.agent_id = parsed.agentId;
    stub.credential_id = parsed.credentialId;
    stub.id = `${parsed.agentId}/${parsed.credentialId}`;
    return { state: stub, diagnostics: [] };
  },
} satisfies ResourceDefinition;
