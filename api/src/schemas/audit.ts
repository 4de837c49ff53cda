/** HTTP contract for the audit log. */
import { z } from 'zod';

export const AuditListQuery = z
  .strictObject({
    agent_id: z.string().max(64).optional(),
    action: z.string().max(100).optional(),
    since: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
    until: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(100).optional(),
  })
  .meta({ id: 'AuditListQuery' });
