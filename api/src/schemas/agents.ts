/** HTTP contract for agents: request schemas (validation + OpenAPI) and the response view. */
import { z } from 'zod';
import { AgentName, AgentStatusSchema, MayAct, Metadata, Scopes, Text } from '../../../model/agent-schemas';
import { PUBLIC_KEY_RULE } from '../../../model/agent';
import { MAY_ACT_RULE } from '../../../model/delegation';
import { LIST_IDS_MAX, LIST_IDS_RULE, LIST_PAGE_DEFAULT, LIST_PAGE_MAX, NAME_FILTER_MAX, REASON_MAX } from '../../../model/limits';
import { AGENT_KEY_STATUSES } from '../../../model/statuses';
import {
  FEDERATED_AUDIENCE_RULE, FEDERATED_CLAIMS_RULE, FEDERATED_CREDENTIALS_MAX, FEDERATED_CREDENTIALS_RULE, FEDERATED_ISSUER_RULE,
  FEDERATED_JWKS_RULE, FEDERATED_SUBJECT_RULE,
} from '../../../model/federation';
import { RequestId, RequestIdFilter } from './ids';

const PublicKey = z.string().meta({ description: `Bring your own key: ${PUBLIC_KEY_RULE}`, example: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' });
const Reason = Text(REASON_MAX).meta({ description: 'Why; recorded in the audit log' });

const Jwks = z.looseObject({ keys: z.array(z.record(z.string(), z.unknown())) });

export const FederatedCredentialCreate = z
  .strictObject({
    issuer: z.string().meta({ description: `The platform token's issuer: ${FEDERATED_ISSUER_RULE}`, example: 'https://token.actions.githubusercontent.com' }),
    subject: z.string().meta({ description: `The workload: ${FEDERATED_SUBJECT_RULE}`, example: 'repo:acme/payments:ref:refs/heads/main' }),
    audience: z.string().optional().meta({ description: FEDERATED_AUDIENCE_RULE }),
    claims: z.record(z.string(), z.unknown()).optional().meta({ description: FEDERATED_CLAIMS_RULE, example: { job_workflow_ref: 'acme/payments/.github/workflows/deploy.yml@refs/heads/main' } }),
    jwks: Jwks.optional().meta({ description: FEDERATED_JWKS_RULE }),
  })
  .meta({ id: 'FederatedCredentialCreate', description: 'An external workload whose platform token (a JWT of another issuer) authenticates the agent' });
export type FederatedCredentialCreateInput = z.output<typeof FederatedCredentialCreate>;

export const AgentCreate = z
  .strictObject({
    name: AgentName, scopes: Scopes.default([]), metadata: Metadata.default({}),
    public_key: PublicKey.optional(),
    federated_credentials: z.array(FederatedCredentialCreate).max(FEDERATED_CREDENTIALS_MAX, FEDERATED_CREDENTIALS_RULE).optional()
      .meta({ description: `Workloads that authenticate as the agent with their platform token (${FEDERATED_CREDENTIALS_RULE}). With them and without \`public_key\`, the agent has no key and no secret at all` }),
    may_act: MayAct.default([]),
  })
  .meta({ id: 'AgentCreate' });
export type AgentCreateInput = z.output<typeof AgentCreate>;

export const AgentUpdate = z
  .strictObject({ name: AgentName.optional(), scopes: Scopes.optional(), metadata: Metadata.optional(), may_act: MayAct.optional() })
  .meta({ id: 'AgentUpdate', description: 'Fields to change; `metadata` and `may_act` replace the whole map or list' });
export type AgentUpdateInput = z.output<typeof AgentUpdate>;

export const TransitionBody = z.strictObject({ reason: Reason.optional() }).meta({ id: 'TransitionBody' });

const BoolString = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Most ids one list request may name (the list's own page maximum). */
export const MAX_LIST_IDS = LIST_IDS_MAX;
/** `?id=…` once or repeated; a malformed id simply matches nothing, as GET /v1/agents/{id} answers 404. */
export function idFilter(what: string) {
  return z
    .preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(RequestIdFilter).max(MAX_LIST_IDS, LIST_IDS_RULE))
    .meta({ description: `Only these ${what} (repeat \`id\`, at most ${MAX_LIST_IDS}); ids of other organizations, unknown or malformed ids match nothing` });
}
const IdFilter = idFilter('agents');

export const AgentListQuery = z
  .strictObject({
    status: AgentStatusSchema.optional(),
    name: z.string().max(NAME_FILTER_MAX).optional(),
    name_prefix: z.string().max(NAME_FILTER_MAX).optional(),
    id: IdFilter.optional(),
    never_authenticated: BoolString.optional(),
    inactive_since: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional()
      .meta({ description: 'Agents with no authentication since this instant (or never)' }),
    limit: z.coerce.number().int().min(1).max(LIST_PAGE_MAX).default(LIST_PAGE_DEFAULT),
    cursor: z.string().max(200).optional().meta({ description: 'Opaque cursor from `next_cursor`' }),
  })
  .meta({ id: 'AgentListQuery' });
export type AgentListQueryInput = z.output<typeof AgentListQuery>;

export const AgentKeyCreate = z.strictObject({ public_key: PublicKey.optional() }).meta({ id: 'AgentKeyCreate' });

export const AgentView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    public_key: z.string().nullable().meta({ description: 'The newest active key; null for an agent that authenticates only with federated credentials' }),
    scopes: z.array(z.string()),
    status: AgentStatusSchema,
    metadata: z.record(z.string(), z.string()),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    last_auth_at: z.iso.datetime().nullable(),
    may_act: z.array(z.uuid()).meta({ description: MAY_ACT_RULE }),
    secret: z.string().optional().meta({ description: 'Only in the create response, only when the server generated the key. Store it now: it is never shown again.' }),
  })
  .meta({ id: 'Agent' });
export type AgentView = z.infer<typeof AgentView>;

export const AgentKeyView = z
  .object({
    kid: z.string(),
    public_key: z.string(),
    status: z.enum(AGENT_KEY_STATUSES),
    created_at: z.iso.datetime(),
    revoked_at: z.iso.datetime().nullable(),
    secret: z.string().optional(),
  })
  .meta({ id: 'AgentKey' });
export type AgentKeyView = z.infer<typeof AgentKeyView>;

export const FederatedCredentialView = z
  .object({
    id: z.uuid(),
    issuer: z.string(),
    subject: z.string(),
    audience: z.string(),
    claims: z.record(z.string(), z.unknown()),
    jwks: Jwks.nullable().meta({ description: 'The inline keys; null: fetched by OpenID discovery' }),
    status: z.enum(AGENT_KEY_STATUSES),
    created_at: z.iso.datetime(),
    revoked_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'FederatedCredential' });
export type FederatedCredentialView = z.infer<typeof FederatedCredentialView>;

export const AgentPage = z.object({ data: z.array(AgentView), next_cursor: z.string().nullable() }).meta({ id: 'AgentPage' });

export const AgentDelegationParams = z.object({
  id: RequestId.meta({ description: 'The subject agent id (the agent acted for)' }),
  actor_id: RequestId.meta({ description: 'The actor agent id (the agent that may act for it)' }),
});

export const AgentDelegationView = z
  .object({
    subject_agent_id: z.uuid(),
    actor_agent_id: z.uuid(),
    created_at: z.iso.datetime().meta({ description: 'When the grant was made; delegated tokens issued before it are invalid' }),
  })
  .meta({ id: 'AgentDelegation', description: 'One entry of the subject agent\'s `may_act`: the actor may exchange the subject\'s access tokens (RFC 8693)' });
export type AgentDelegationView = z.infer<typeof AgentDelegationView>;
