/**
 * certusordo_agent_delegation: one entry of an agent's `may_act` — the actor may exchange the
 * subject's access tokens for tokens that act for it (RFC 8693). Create = PUT
 * /v1/agents/{subject}/delegations/{actor}, destroy = DELETE (the actor's tokens for the subject
 * stop working at once), import by `<subject_agent_id>/<actor_agent_id>`. Both ids replace the
 * resource. One grant per resource, so "A may act for B" and "B may act for A" are two resources
 * and no dependency cycle.
 *
 * Reads go through the batched agent reader (the subject's `may_act`), so refreshing many grants
 * costs a few list requests, not one request each.
 */
import { asString, UNKNOWN, type TfObject, type TfValue } from '../codec/values';
import type { WireAgentDelegation as AgentDelegation } from '../../../sdk/src/core/wire';
import { NotFoundError } from '../../../sdk/src/core/errors';
import { diagFromError, error, type Diagnostic } from '../diag';
import { requiresReplace, useStateForUnknown } from '../plan/modifiers';
import { str, type SchemaDef } from '../schema/types';
import type { PlanAdjustment, PlanRequest, ResourceDefinition, StateResult } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const agentDelegationSchema = {
  version: 0,
  block: {
    description:
      'Lets one agent act for another (an entry of the subject agent\'s `may_act`): the actor may exchange the subject\'s access tokens for tokens that carry `sub` = the subject and `act.sub` = the actor (RFC 8693 token exchange), within both agents\' scopes. Destroying the resource removes the grant: every token the actor holds for the subject, and every token derived from those, stops working at once. Both agents must belong to the organization; neither may be revoked.',
    attributes: {
      id: {
        type: str,
        computed: true,
        description: '`<subject_agent_id>/<actor_agent_id>`, the import id.',
        planModifiers: [useStateForUnknown()],
      },
      subject_agent_id: {
        type: str,
        required: true,
        description: 'The agent acted for (usually `certusordo_agent.<name>.id`). Changing it replaces the grant.',
        planModifiers: [requiresReplace()],
      },
      actor_agent_id: {
        type: str,
        required: true,
        description: 'The agent allowed to act for it. Changing it replaces the grant.',
        planModifiers: [requiresReplace()],
      },
      created_at: {
        type: str,
        computed: true,
        description: 'When the grant was made (RFC 3339); delegated tokens issued before it are invalid.',
        planModifiers: [useStateForUnknown()],
      },
    },
  },
} satisfies SchemaDef;

/** `<subject_agent_id>/<actor_agent_id>`; null when the id is not of that shape. */
export function parseDelegationImportId(id: string): { subjectId: string; actorId: string } | null {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(id.trim());
  if (!m || !UUID.test(m[1]!) || !UUID.test(m[2]!)) return null;
  return { subjectId: m[1]!.toLowerCase(), actorId: m[2]!.toLowerCase() };
}

function validate(config: TfObject): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const attr of ['subject_agent_id', 'actor_agent_id'] as const) {
    const v = config[attr];
    if (typeof v === 'string' && !UUID.test(v)) out.push(error('Invalid agent id', `${attr} "${v}" is not an agent id (a UUID). Use \`certusordo_agent.<name>.id\`.`, [attr]));
  }
  const { subject_agent_id: s, actor_agent_id: a } = config;
  if (typeof s === 'string' && typeof a === 'string' && s.toLowerCase() === a.toLowerCase()) {
    out.push(error('An agent cannot act for itself', 'subject_agent_id and actor_agent_id name the same agent; a delegation names two different agents.', ['actor_agent_id']));
  }
  return out;
}

function modifyPlan(req: PlanRequest, res: PlanAdjustment): PlanAdjustment {
  if (req.prior === null || res.requiresReplace.length > 0) {
    const { subject_agent_id: s, actor_agent_id: a } = req.config;
    res.planned.id = typeof s === 'string' && typeof a === 'string' ? `${s.toLowerCase()}/${a.toLowerCase()}` : UNKNOWN;
    res.planned.created_at = UNKNOWN;
  }
  return res;
}

function toState(d: AgentDelegation): TfObject {
  return { id: `${d.subject_agent_id}/${d.actor_agent_id}`, subject_agent_id: d.subject_agent_id, actor_agent_id: d.actor_agent_id, created_at: d.created_at };
}

export const agentDelegationResource = {
  typeName: 'certusordo_agent_delegation',
  schema: agentDelegationSchema,
  validate,
  modifyPlan,

  async create(p, planned): Promise<StateResult> {
    const subjectId = asString(planned.subject_agent_id) ?? '';
    const actorId = asString(planned.actor_agent_id) ?? '';
    try {
      const d = await p.client.grantDelegation(subjectId, actorId);
      p.logger.info('granted delegation', { subject_agent_id: subjectId, actor_agent_id: actorId });
      return { state: toState(d), diagnostics: [] };
    } catch (err) {
      return { state: null, diagnostics: [diagFromError(err, `let agent ${actorId} act for agent ${subjectId}`)] };
    }
  },

  async read(p, state, priv): Promise<StateResult> {
    const subjectId = asString(state.subject_agent_id);
    const actorId = asString(state.actor_agent_id);
    if (!subjectId || !actorId) return { state: null, diagnostics: [], private: priv };
    try {
      const subject = await p.client.findAgent(subjectId);
      if (!subject || !(subject.may_act ?? []).includes(actorId.toLowerCase())) {
        p.logger.info('delegation removed outside Terraform; dropping it from state', { subject_agent_id: subjectId, actor_agent_id: actorId });
        return { state: null, diagnostics: [], private: priv };
      }
      // The grant's time is read only when state lacks it (after import).
      if (asString(state.created_at)) return { state, diagnostics: [], private: priv };
      return { state: toState(await p.client.getDelegation(subjectId, actorId)), diagnostics: [], private: priv };
    } catch (err) {
      if (err instanceof NotFoundError) return { state: null, diagnostics: [], private: priv };
      return { state, diagnostics: [diagFromError(err, `read the delegation of agent ${subjectId} to agent ${actorId}`)], private: priv };
    }
  },

  /** Every attribute replaces the resource; nothing updates in place. */
  async update(_p, _prior, planned): Promise<StateResult> {
    return { state: planned, diagnostics: [] };
  },

  async delete(p, prior): Promise<StateResult> {
    const subjectId = asString(prior.subject_agent_id);
    const actorId = asString(prior.actor_agent_id);
    if (!subjectId || !actorId) return { state: null, diagnostics: [] };
    try {
      await p.client.removeDelegation(subjectId, actorId);
      p.logger.info('removed delegation', { subject_agent_id: subjectId, actor_agent_id: actorId });
      return { state: null, diagnostics: [] };
    } catch (err) {
      if (err instanceof NotFoundError) return { state: null, diagnostics: [] };
      return { state: prior, diagnostics: [diagFromError(err, `remove the delegation of agent ${subjectId} to agent ${actorId}`)] };
    }
  },

  async importState(_p, id): Promise<StateResult> {
    const parsed = parseDelegationImportId(id);
    if (!parsed) {
      return {
        state: null,
        diagnostics: [error('Invalid import id', 'Import certusordo_agent_delegation with `<subject_agent_id>/<actor_agent_id>`, for example `01a214bb-6b6a-7000-b305-28c3c7f6620b/01a214bb-7c7b-7000-a305-28c3c7f6620c`. An agent\'s grants are its `may_act`.')],
      };
    }
    const stub: Record<string, TfValue> = { id: `${parsed.subjectId}/${parsed.actorId}`, subject_agent_id: parsed.subjectId, actor_agent_id: parsed.actorId, created_at: null };
    return { state: stub, diagnostics: [] };
  },
} satisfies ResourceDefinition;
