/** /v1/agents: thin HTTP layer — parse, authorize, call the service, render. */
import { Router } from 'express';
import { param } from './params';
import { auditContext, requireRole } from '../middleware/auth';
import { AgentCreate, AgentKeyCreate, AgentListQuery, AgentUpdate, TransitionBody } from '../schemas/agents';
import type { AgentService, Transition } from '../services/agents';
import { idempotencyKey, sendCreated } from './idempotency';

export function agentsRouter(agents: AgentService): Router {
  const r = Router();

  r.post('/agents', requireRole('admin'), async (req, res) => {
    const input = AgentCreate.parse(req.body);
    sendCreated(res, await agents.create(auditContext(req), input, idempotencyKey(req)));
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
    sendCreated(res, await agents.addKey(auditContext(req), param(req, 'id'), public_key, idempotencyKey(req)));
  });

  r.delete('/agents/:id/keys/:kid', requireRole('admin'), async (req, res) => {
    res.json(await agents.removeKey(auditContext(req), param(req, 'id'), param(req, 'kid')));
  });

  return r;
}
