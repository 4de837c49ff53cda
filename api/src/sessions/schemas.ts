/** HTTP contract for sessions: request schemas (validation + OpenAPI) and the response view. */
import { z } from 'zod';
import { Scopes } from '../../../model/agent-schemas';

export const SESSION_TTL_MAX_SECONDS = 3600;

export const SessionCreate = z
  .strictObject({
    scopes: Scopes.refine((s: string[]) => s.length > 0, 'at least one scope is required')
      .meta({ description: 'A subset of the access token\'s scopes (and of the agent\'s current scopes)' }),
    ttl_seconds: z.number().int().min(1).max(SESSION_TTL_MAX_SECONDS).default(900)
      .meta({ description: `Lifetime in seconds (1-${SESSION_TTL_MAX_SECONDS}, default 900); the session token expires with the session` }),
    max_operations: z.number().int().min(1).max(1_000_000).optional().meta({ description: 'Operation budget; omit for none' }),
    purpose: z.string().max(500).optional().meta({ description: 'Why; recorded in the audit log' }),
  })
  .meta({ id: 'SessionCreate' });
export type SessionCreateInput = z.output<typeof SessionCreate>;

export const SessionOperation = z
  .strictObject({
    scope: z.string().min(1).max(200).meta({ description: 'The scope the operation needs; must be covered by the session\'s scopes and by the agent\'s current scopes' }),
    description: z.string().max(500).optional().meta({ description: 'What was done; recorded in the audit log' }),
  })
  .meta({ id: 'SessionOperation' });
export type SessionOperationInput = z.output<typeof SessionOperation>;

export const SESSION_STATUSES = ['active', 'exhausted', 'expired', 'ended'] as const;

export const SessionListQuery = z
  .strictObject({
    agent_id: z.string().max(64).optional(),
    status: z.enum(SESSION_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
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
    end_reason: z.string().nullable().meta({ description: 'ended_by_agent | ended_by_api_key | agent_suspended | agent_revoked | parent_token_revoked (the access token that opened it was revoked) | session_token_revoked' }),
    access_token: z.string().optional().meta({ description: 'Only in the create response: an access token bound to the session (sid claim, the session\'s scopes, expires with it)' }),
  })
  .meta({ id: 'Session' });
export type SessionView = Omit<z.infer<typeof SessionView>, 'access_token'>;

export const SessionPage = z.object({ data: z.array(SessionView), next_cursor: z.string().nullable() }).meta({ id: 'SessionPage' });
