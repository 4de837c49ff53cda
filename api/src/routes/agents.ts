/** /v1/agents: thin HTTP layer — parse, authorize, call the service, render. */
import { Router } from 'express';
import { param } from './params';
import { auditContext, requireRole } from '../middleware/auth';
import { AgentCreate, AgentKeyCreate, AgentListQuery, AgentUpdate, TransitionBody } from '../schemas/agents';
import type { AgentService, Transition } from '../services/agents';
import { ValidationError } from '../errors';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function agentsRouter(agents: AgentService): Router {
  const r = Router();

  r.post('/agents', requireRole('admin'), async (req, res) => {
    const input = AgentCreate.parse(req.body);
    const key = req.get('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new ValidationError('Idempotency-Key must be 1-255 printable ASCII characters', [{ path: 'Idempotency-Key', message: 'invalid' }]);
    }
    const result = await agents.create(auditContext(req), input, key);
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.setHeader('Cache-Control', 'no-store');
    res.status(result.status).json(result.response);
  });

  r.get('/agents', requireRole('reader'), async (req, res) => {
    res.json(await agents.list(req.apiKey!.organizationId, AgentListQuery.parse(req.query)));
  });

  r.get('/agents/:id', requireRole('reader'), async (req, res) => {
    res.json(await agents.get(req.apiKey!.organizationId, param(req, 'id')));
  });

  r.patch('/agents/:id', requireRole('admin'), async (req, res) => {
    res.json(await agents.update(auditContext(req), param(req, 'id'), AgentUpdate.parse(req.body)));
  });

  for (const action of ['suspend', 'activate', 'revoke'] as const satisfies readonly Transition[]) {
    r.post(`/agents/:id/${action}`, requireRole('operator'), async (req, res) => {
      const { reason } = TransitionBody.parse(req.body);
      res.json(await agents.transition(auditContext(req), param(req, 'id'), action, reason));
    });
  }

  r.get('/agents/:id/keys', requireRole('reader'), async (req, res) => {
    res.json({ data: await agents.listKeys(req.apiKey!.organizationId, param(req, 'id')) });
  });

  r.post('/agents/:id/keys', requireRole('admin'), async (req, res) => {
    const { public_key } = AgentKeyCreate.parse(req.body);
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json(await agents.addKey(auditContext(req), param(req, 'id'), public_key));
  });

  r.delete('/agents/:id/keys/:kid', requireRole('admin'), async (req, res) => {
    res.json(await agents.removeKey(auditContext(req), param(req, 'id'), param(req, 'kid')));
  });

  return r;
}
