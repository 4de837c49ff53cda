/** /v1/api-keys: admin-only management of the organization's keys. */
import { Router } from 'express';
import { param } from './params';
import { idempotencyKey, sendCreated } from './idempotency';
import { auditContext, requireRole } from '../middleware/auth';
import { ApiKeyCreate, OrganizationService } from '../services/organizations';

export function apiKeysRouter(orgs: OrganizationService): Router {
  const r = Router();
  r.post('/api-keys', requireRole('admin'), async (req, res) => {
    const input = ApiKeyCreate.parse(req.body);
    sendCreated(res, await orgs.createApiKeyOnce(auditContext(req), input, idempotencyKey(req)));
  });
  r.get('/api-keys', requireRole('admin'), async (req, res) => {
    res.json({ data: await orgs.listApiKeys(req.apiKey!.organizationId) });
  });
  r.post('/api-keys/:id/revoke', requireRole('admin'), async (req, res) => {
    res.json(await orgs.revokeApiKey(auditContext(req), param(req, 'id')));
  });
  return r;
}
