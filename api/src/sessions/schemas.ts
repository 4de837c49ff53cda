/** HTTP contract for sessions: request schemas (validation + OpenAPI) and the response view. */
import { z } from 'zod';
import { Scopes } from '../../../model/agent-schemas';
import {
  LIST_PAGE_DEFAULT, LIST_PAGE_MAX, OPERATION_SCOPE_MAX, REASON_MAX, SESSION_MAX_OPERATIONS, SESSION_TTL_DEFAULT_SECONDS, SESSION_TTL_MAX_SECONDS, SESSION_TTL_RULE,
} from '../../../model/limits';
import { SESSION_END_REASON_RULE, SESSION_STATUSES } from '../../../model/statuses';
import { RequestIdFilter } from '../schemas/ids';

export const SessionCreate = z
  .strictObject({
    scopes: Scopes.refine((s: string[]) => s.length > 0, 'at least one scope is required')
      .meta({ description: 'A subset of the access token\'s scopes (and of the agent\'s current scopes)' }),
    ttl_seconds: z.number().int().min(1).max(SESSION_TTL_MAX_SECONDS).default(SESSION_TTL_DEFAULT_SECONDS)
      .meta({ description: `Lifetime, ${SESSION_TTL_RULE}; the session token expires with the session or with the access token it was minted from, whichever comes first (renew it with POST /v1/sessions/{id}/token)` }),
    max_operations: z.number().int().min(1).max(SESSION_MAX_OPERATIONS).optional().meta({ description: 'Operation budget; omit for none' }),
    purpose: z.string().max(REASON_MAX).optional().meta({ description: 'Why; recorded in the audit log' }),
  })
  .meta({ id: 'SessionCreate' });
export type SessionCreateInput = z.output<typeof SessionCreate>;

export const SessionOperation = z
  .strictObject({
    scope: z.string().min(1).max(OPERATION_SCOPE_MAX).meta({ description: 'The scope the operation needs; must be covered by the session\'s scopes and by the agent\'s current scopes' }),
    description: z.string().max(REASON_MAX).optional().meta({ description: 'What was done; recorded in the audit log' }),
  })
  .meta({ id: 'SessionOperation' });
export type SessionOperationInput = z.output<typeof SessionOperation>;

export const SessionListQuery = z
  .strictObject({
    agent_id: RequestIdFilter.optional(),
    status: z.enum(SESSION_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(LIST_PAGE_MAX).default(LIST_PAGE_DEFAULT),
    cursor: z.string().max(200).optional().meta({ description: 'Opaque cursor from `next_cursor`' }),
  })
  .meta({ id: 'SessionListQuery' });
export type SessionListQueryInput = z.output<typeof SessionListQuery>;

export const SessionView = z
  .object({
    id: z.uuid(),
    agent_id: z.uuid(),
    scopes: z.array(z.string()),
    max_operations: z.number().int().nullable(),
    operations_used: z.number().int(),
    status: z.enum(SESSION_STATUSES),
    purpose: z.string().nullable(),
    created_at: z.iso.datetime(),
    expires_at: z.iso.datetime(),
    ended_at: z.iso.datetime().nullable(),
    end_reason: z.string().nullable().meta({ description: SESSION_END_REASON_RULE }),
    access_token: z.string().optional().meta({ description: 'Only in the create and renew responses: an access token bound to the session (sid claim, the session\'s scopes; expires with the session or with the access token it was minted from, whichever comes first)' }),
  })
  .meta({ id: 'Session' });
export type SessionView = Omit<z.infer<typeof SessionView>, 'access_token'>;

export const SessionPage = z.object({ data: z.array(SessionView), next_cursor: z.string().nullable() }).meta({ id: 'SessionPage' });
