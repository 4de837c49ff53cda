/** /v1/audit-events: read, checkpoint and verify the organization's keyed audit chain. */
import { Router } from 'express';
import type { Knex } from 'knex';
import { requireRole } from '../middleware/auth';
import { AuditListQuery, AuditVerifyQuery } from '../schemas/audit';
import type { AuditLog } from '../services/audit';
import { ForbiddenError } from '../errors';

export function auditRouter(db: Knex, audit: AuditLog): Router {
  const r = Router();
  r.get('/audit-events', requireRole('reader'), async (req, res) => {
    res.json(await audit.list(db, req.apiKey!.organizationId, AuditListQuery.parse(req.query)));
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
