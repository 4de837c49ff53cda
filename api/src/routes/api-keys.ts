/** /v1/api-keys: admin-only management of the organization's keys, and GET /v1/api-keys/me for any key. */
import { Router } from 'express';
import { param } from './params';
import { idempotencyKey, sendCreated } from './idempotency';
import { auditContext, requireRole } from '../middleware/auth';
import { ApiKeyCreate, OrganizationService } from '../services/organizations';

export function apiKeysRouter(orgs: OrganizationService): Router {
  const r = Router();
  // Who am I: the presented key's organization and role (any role; the console adapts to it).
  r.get('/api-keys/me', requireRole('reader'), (req, res) => {
    const key = req.apiKey!;
    res.setHeader('Cache-Control', 'no-store');
    res.json({ id: key.id, organization_id: key.organizationId, role: key.role });
  });
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
