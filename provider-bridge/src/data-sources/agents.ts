/** Data source certusordo_agents: every agent matching the filters, across all pages. */
import { asString, type TfObject } from '../codec/values';
import { NAME_MAX } from '../../../model/agent';
import { NAME_FILTER_MAX } from '../../../model/limits';
import { AGENT_STATUSES, type AgentStatus } from '../../../model/statuses';
import { codeChoices, quotedChoices } from '../../../model/words';
import { diagFromError, error, type Diagnostic } from '../diag';
import { bool, listOf, mapOf, objectOf, setOf, str, type SchemaDef } from '../schema/types';
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
  may_act: setOf(str),
});

export const agentsDataSchema = {
  version: 0,
  block: {
    description:
      'Lists the organization\'s agents, optionally filtered, following the API\'s pagination to the end. Ordered by creation time. Secrets are never exposed.',
    attributes: {
      status: { type: str, optional: true, description: `Only agents with this status: ${codeChoices(AGENT_STATUSES)}.` },
      name_prefix: { type: str, optional: true, description: 'Only agents whose name starts with this prefix.' },
      never_authenticated: {
        type: bool,
        optional: true,
        description: 'When `true`, only agents that have never authenticated (`last_auth_at` is null). `false` or unset: no filter.',
      },
      inactive_since: {
        type: str,
        optional: true,
        description:
          'RFC 3339 instant with a time zone (for example `2026-11-01T00:00:00Z`, or `timeadd(plantimestamp(), "-720h")`): only agents with no authentication since then, including those that never authenticated. Useful to find stale identities.',
      },
      agents: {
        type: listOf(agentObject),
        computed: true,
        description:
          'Matching agents, each with `id`, `name`, `scopes`, `metadata`, `public_key`, `status`, `created_at`, `last_auth_at` and `may_act`.',
      },
    },
  },
} satisfies SchemaDef;

/** The API's `inactive_since` format: an ISO 8601 date-time with seconds and an offset (`Z` or `±hh:mm`). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function validate(config: TfObject): Diagnostic[] {
  const out: Diagnostic[] = [];
  const status = config.status;
  if (typeof status === 'string' && !(AGENT_STATUSES as readonly string[]).includes(status)) {
    out.push(error('Invalid status filter', `status "${status}" is not one of ${quotedChoices(AGENT_STATUSES)}. Fix \`status\` or remove it.`, ['status']));
  }
  const since = config.inactive_since;
  if (typeof since === 'string' && (!RFC3339.test(since) || Number.isNaN(Date.parse(since)))) {
    out.push(
      error(
        'Invalid inactive_since filter',
        `inactive_since "${since}" is not an RFC 3339 time with a time zone. Use for example "2026-11-01T00:00:00Z", or timeadd(plantimestamp(), "-720h") for "30 days ago".`,
        ['inactive_since'],
      ),
    );
  }
  const prefix = config.name_prefix;
  if (typeof prefix === 'string' && prefix.length > NAME_FILTER_MAX) {
    out.push(error('Invalid name_prefix filter', `name_prefix is ${prefix.length} characters long; the API accepts at most ${NAME_FILTER_MAX} (agent names have at most ${NAME_MAX}).`, ['name_prefix']));
  }
  return out;
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
    const query = {
      status,
      name_prefix: namePrefix,
      // `false` is "no filter": the API's never_authenticated=false would mean the same.
      never_authenticated: config.never_authenticated === true ? ('true' as const) : undefined,
      inactive_since: asString(config.inactive_since) ?? undefined,
    };
    try {
      const agents = [];
      for await (const a of p.client.listAgents(query)) agents.push(agentAttributes(a));
      return {
        state: {
          status: config.status ?? null,
          name_prefix: config.name_prefix ?? null,
          never_authenticated: config.never_authenticated ?? null,
          inactive_since: config.inactive_since ?? null,
          agents,
        },
        diagnostics: [],
      };
    } catch (err) {
      return { state: null, diagnostics: [diagFromError(err, 'list agents')] };
    }
  },
} satisfies DataSourceDefinition;
