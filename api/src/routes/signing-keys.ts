/**
 * /v1/signing-keys: the caller's organization's token signing keys (public information) and their
 * on-demand rotation. An API key sees and rotates only its own organization's keys.
 */
import { Router } from 'express';
import { z } from 'zod';
import { jsonBody } from '../middleware/body';
import { auditContext } from '../middleware/auth';
import type { SigningKeyService } from '../services/signing-keys';
import { authenticateCaller, CallerAuthDeps } from '../tokens/http-auth';

export const RotateBody = z.strictObject({ reason: z.string().max(500).optional() }).meta({ id: 'SigningKeyRotate' });

export function signingKeysRouter(deps: CallerAuthDeps & { signingKeys: SigningKeyService; bodyLimitBytes: number }): Router {
  const r = Router();
  r.use(jsonBody(deps.bodyLimitBytes));
  r.get('/', authenticateCaller(deps, { apiKeyRole: 'reader' }), async (req, res) => {
    res.json({ data: await deps.signingKeys.list(req.apiKey!.organizationId) });
  });
  r.post('/rotate', authenticateCaller(deps, { apiKeyRole: 'admin' }), async (req, res) => {
    const { reason } = RotateBody.parse(req.body);
    res.json(await deps.signingKeys.rotate(auditContext(req), reason));
  });
  return r;
}
