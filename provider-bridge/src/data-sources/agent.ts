/** Data source certusordo_agent: one agent by `id` or by `name`. Never exposes a secret. */
import { asString, isUnknown, type TfObject } from '../codec/values';
import { NotFoundError } from '../../../sdk/src/core/errors';
import { diagFromError, error, type Diagnostic } from '../diag';
import { mapOf, setOf, str, type SchemaDef } from '../schema/types';
import { PUBLIC_KEY_RULE, SCOPE_RULE } from '../../../model/agent';
import { AGENT_STATUSES } from '../../../model/statuses';
import { codeChoices } from '../../../model/words';
import { agentAttributes, capitalize, MAY_ACT_DESCRIPTION } from '../resources/agent-model';
import type { DataSourceDefinition, StateResult } from '../resources/types';

export const agentDataSchema = {
  version: 0,
  block: {
    description: 'Looks up one agent by `id` or by `name` (exactly one of them). The agent\'s secret is never exposed.',
    attributes: {
      id: { type: str, optional: true, computed: true, description: 'Agent id (UUID). Set this or `name`.' },
      name: {
        type: str,
        optional: true,
        computed: true,
        description: 'Agent name. Set this or `id`. Names are unique among non-revoked agents, so a revoked agent can only be looked up by `id`.',
      },
      scopes: { type: setOf(str), computed: true, description: `Permitted operations, each ${SCOPE_RULE}.` },
      metadata: { type: mapOf(str), computed: true, description: 'String key/value pairs.' },
      public_key: { type: str, computed: true, description: `${capitalize(PUBLIC_KEY_RULE)}.` },
      status: { type: str, computed: true, description: `${capitalize(codeChoices(AGENT_STATUSES))}.` },
      created_at: { type: str, computed: true, description: 'Creation time (RFC 3339).' },
      last_auth_at: { type: str, computed: true, description: 'Last successful authentication (RFC 3339), or null.' },
      may_act: { type: setOf(str), computed: true, description: MAY_ACT_DESCRIPTION },
    },
  },
} satisfies SchemaDef;

function validate(config: TfObject): Diagnostic[] {
  const hasId = (config.id ?? null) !== null;
  const hasName = (config.name ?? null) !== null;
  if (hasId && hasName) {
    return [error('Conflicting agent lookup', 'Set exactly one of `id` or `name`, not both.', ['name'])];
  }
  if (!hasId && !hasName) {
    return [error('Missing agent lookup', 'Set exactly one of `id` or `name` to choose the agent to read.')];
  }
  return [];
}

export const agentDataSource = {
  typeName: 'certusordo_agent',
  schema: agentDataSchema,
  validate,
  async read(p, config): Promise<StateResult> {
    const diags = validate(config);
    if (diags.length) return { state: null, diagnostics: diags };
    const id = asString(config.id);
    const name = asString(config.name);
    if ((config.id && isUnknown(config.id)) || (config.name && isUnknown(config.name))) {
      return { state: null, diagnostics: [error('Unknown agent lookup', 'The `id` or `name` is not known yet.')] };
    }
    try {
      if (id) {
        const agent = await p.client.getAgent(id);
        return { state: agentAttributes(agent), diagnostics: [] };
      }
      for await (const agent of p.client.listAgents({ name: name ?? '' })) {
        if (agent.status !== 'revoked' && agent.name === name) return { state: agentAttributes(agent), diagnostics: [] };
      }
      return {
        state: null,
        diagnostics: [error('Agent not found', `No non-revoked agent is named "${name}". Check \`name\`, or look a revoked agent up by \`id\`.`, ['name'])],
      };
    } catch (err) {
      if (err instanceof NotFoundError) {
        return { state: null, diagnostics: [error('Agent not found', `No agent has id "${id}". Check \`id\`.`, ['id'])] };
      }
      return { state: null, diagnostics: [diagFromError(err, `read agent ${id ?? name}`)] };
    }
  },
} satisfies DataSourceDefinition;
