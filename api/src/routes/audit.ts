/** /v1/audit-events: read, checkpoint and verify the organization's keyed audit chain. */
import { Router } from 'express';
import type { Knex } from 'knex';
import { requireRole } from '../middleware/auth';
import { AuditListQuery, AuditVerifyQuery } from '../schemas/audit';
import { listAuditEvents } from '../db/operations/audit';
import { AuditLog, toAuditEvent } from '../services/audit';
import { ForbiddenError, ValidationError } from '../errors';

/** Cursor prefixes per order, so a cursor cannot silently continue a list in the other direction. */
const CURSOR_PREFIX = { asc: 'e1:', desc: 'e1d:' } as const;

function encodeSeqCursor(seq: number, order: 'asc' | 'desc'): string {
  return Buffer.from(`${CURSOR_PREFIX[order]}${seq}`).toString('base64url');
}

function decodeSeqCursor(cursor: string, order: 'asc' | 'desc'): number {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = CURSOR_PREFIX[order];
  const n = raw.startsWith(prefix) ? Number(raw.slice(prefix.length)) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new ValidationError('cursor is invalid', [{ path: 'cursor', message: `use the next_cursor value of a previous page listed with order=${order}` }]);
  return n;
}

export function auditRouter(db: Knex, audit: AuditLog): Router {
  const r = Router();
  r.get('/audit-events', requireRole('reader'), async (req, res) => {
    const q = AuditListQuery.parse(req.query);
    const rows = await listAuditEvents(db, req.apiKey!.organizationId, {
      agentId: q.agent_id, action: q.action, since: q.since, until: q.until,
      afterSeq: q.cursor ? decodeSeqCursor(q.cursor, q.order) : undefined, order: q.order, limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    res.json({ data: page.map(toAuditEvent), next_cursor: rows.length > q.limit && last ? encodeSeqCursor(last.seq, q.order) : null });
  });
  r.get('/audit-events/checkpoint', requireRole('reader'), async (req, res) => {
    res.json(await audit.checkpoint(db, req.apiKey!.organizationId));
  });
  r.get('/audit-events/verify', requireRole('reader'), async (req, res) => {
    const q = AuditVerifyQuery.parse(req.query);
    // A full re-walk costs the whole log; readers (auditors) get the incremental run, shared with concurrent callers.
    if (q.full && req.apiKey!.role !== 'admin') throw new ForbiddenError(`full=true needs the admin role; the key has ${req.apiKey!.role}`);
    res.json(await audit.verify(db, req.apiKey!.organizationId, { checkpoint: q.checkpoint, full: q.full }));
  });
  return r;
}
