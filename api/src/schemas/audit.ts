/** HTTP contract for the audit log. */
import { z } from 'zod';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX } from '../../../model/limits';
import { RequestIdFilter } from './ids';

export const AuditListQuery = z
  .strictObject({
    agent_id: RequestIdFilter.optional(),
    action: z.string().max(100).optional(),
    since: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
    until: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_DEFAULT),
    cursor: z.string().max(100).optional(),
    order: z.enum(['asc', 'desc']).default('asc').describe('asc: oldest first (the chain order); desc: newest first. A cursor continues in the order it was made for'),
  })
  .meta({ id: 'AuditListQuery' });
export type AuditListQueryInput = z.output<typeof AuditListQuery>;

export const AuditVerifyQuery = z
  .strictObject({
    checkpoint: z.string().min(1).max(8192).optional().describe('A checkpoint (compact JWS) from GET /v1/audit-events/checkpoint that the log must extend'),
    full: z.enum(['true', 'false']).transform((v) => v === 'true').optional().describe('Re-walk the whole chain instead of resuming from the last verified point (admin)'),
  })
  .meta({ id: 'AuditVerifyQuery' });

export const AuditVerification = z
  .object({
    valid: z.boolean(),
    events_checked: z.number().int().describe('Events whose link this run recomputed'),
    first_broken_seq: z.number().int().nullable(),
    reason: z.string().nullable(),
    seq: z.number().int().nullable().describe('The seq the log is verified through (null when broken)'),
    hash: z.string().nullable(),
    from_seq: z.number().int().describe('The verified seq this run resumed from (0: the genesis)'),
  })
  .meta({ id: 'AuditVerification' });

export const AuditCheckpoint = z
  .object({
    checkpoint: z.string().describe("Compact JWS (typ certusordo-audit-checkpoint+jwt) signed with the organization's token signing key"),
    org_id: z.string(),
    seq: z.number().int(),
    hash: z.string(),
    created_at: z.string(),
  })
  .meta({ id: 'AuditCheckpoint' });
