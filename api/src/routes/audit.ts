/** /v1/audit-events: read and verify the organization's hash-chained audit log. */
import { Router } from 'express';
import type { Knex } from 'knex';
import { requireRole } from '../middleware/auth';
import { AuditListQuery } from '../schemas/audit';
import { listAuditEvents } from '../db/operations/audit';
import { toAuditEvent, verifyChain } from '../services/audit';
import { ValidationError } from '../errors';

function decodeSeqCursor(cursor: string): number {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const n = raw.startsWith('e1:') ? Number(raw.slice(3)) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new ValidationError('cursor is invalid', [{ path: 'cursor', message: 'use the next_cursor value of a previous page' }]);
  return n;
}

export function auditRouter(db: Knex): Router {
  const r = Router();
  r.get('/audit-events', requireRole('reader'), async (req, res) => {
    const q = AuditListQuery.parse(req.query);
    const rows = await listAuditEvents(db, req.apiKey!.organizationId, {
      agentId: q.agent_id, action: q.action, since: q.since, until: q.until,
      afterSeq: q.cursor ? decodeSeqCursor(q.cursor) : undefined, limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    res.json({ data: page.map(toAuditEvent), next_cursor: rows.length > q.limit && last ? Buffer.from(`e1:${last.seq}`).toString('base64url') : null });
  });
  r.get('/audit-events/verify', requireRole('reader'), async (req, res) => {
    res.json(await verifyChain(db, req.apiKey!.organizationId));
  });
  return r;
}
