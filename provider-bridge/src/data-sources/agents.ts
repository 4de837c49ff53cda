/** Data source certusordo_agents: every agent matching the filters, across all pages. */
import { asString, type TfObject } from '../codec/values';
import { AGENT_STATUSES, type AgentStatus } from '../../../model/agent';
import { diagFromError, error, type Diagnostic } from '../diag';
import { listOf, mapOf, objectOf, setOf, str, type SchemaDef } from '../schema/types';
import { agentAttributes } from '../resources/agent-model';
import type { DataSourceDefinition, StateResult } from '../resources/types';

const agentObject = objectOf({
  id: str,
  name: str,
  scopes: setOf(str),
  metadata: mapOf(str),
  public_key: str,
  status: str,
  created_at: str,
  last_auth_at: str,
});

export const agentsDataSchema = {
  version: 0,
  block: {
    description:
      'Lists the organization\'s agents, optionally filtered, following the API\'s pagination to the end. Ordered by creation time. Secrets are never exposed.',
    attributes: {
      status: { type: str, optional: true, description: 'Only agents with this status: `active`, `suspended` or `revoked`.' },
      name_prefix: { type: str, optional: true, description: 'Only agents whose name starts with this prefix.' },
      agents: {
        type: listOf(agentObject),
        computed: true,
        description:
          'Matching agents, each with `id`, `name`, `scopes`, `metadata`, `public_key`, `status`, `created_at` and `last_auth_at`.',
      },
    },
  },
} satisfies SchemaDef;

function validate(config: TfObject): Diagnostic[] {
  const status = config.status;
  if (typeof status === 'string' && !(AGENT_STATUSES as readonly string[]).includes(status)) {
    return [error('Invalid status filter', `status "${status}" is not one of ${AGENT_STATUSES.map((s) => `"${s}"`).join(', ')}. Fix \`status\` or remove it.`, ['status'])];
  }
  return [];
}

export const agentsDataSource = {
  typeName: 'certusordo_agents',
  schema: agentsDataSchema,
  validate,
  async read(p, config): Promise<StateResult> {
    const diags = validate(config);
    if (diags.length) return { state: null, diagnostics: diags };
    const status = (asString(config.status) ?? undefined) as AgentStatus | undefined;
    const namePrefix = asString(config.name_prefix) ?? undefined;
    try {
      const agents = [];
      for await (const a of p.client.listAgents({ status, name_prefix: namePrefix })) agents.push(agentAttributes(a));
      return { state: { status: config.status ?? null, name_prefix: config.name_prefix ?? null, agents }, diagnostics: [] };
    } catch (err) {
      return { state: null, diagnostics: [diagFromError(err, 'list agents')] };
    }
  },
} satisfies DataSourceDefinition;
