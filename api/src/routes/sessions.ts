/**
 * /v1/sessions: agents open and end their bounded sessions with their access token; relying
 * services record operations with an API key (operator or admin: recording spends the budget);
 * readers list and get. An agent sees only its own sessions; a session token only its own session
 * (another session is 404, and it cannot open sessions).
 */
import { Router } from 'express';
import { param } from './params';
import { jsonBody } from '../middleware/body';
import { auditContext } from '../middleware/auth';
import { requestInfo } from '../oauth/middleware';
import { sessionCaller, SessionService } from '../services/sessions';
import type { TokenService } from '../services/tokens';
import { SessionCreate, SessionListQuery, SessionOperation } from '../sessions/schemas';
import { idempotencyKey } from './idempotency';
import { agentClaims, authenticateCaller, CallerAuthDeps } from '../tokens/http-auth';


export function sessionsRouter(deps: CallerAuthDeps & { sessions: SessionService; tokens: TokenService; bodyLimitBytes: number }): Router {
  const { sessions, tokens } = deps;
  const r = Router();
  r.use(jsonBody(deps.bodyLimitBytes));

  r.post('/', authenticateCaller(deps, { agent: true }), async (req, res) => {
    const input = SessionCreate.parse(req.body);
    const key = idempotencyKey(req);
    const { session, replayed } = await sessions.create(agentClaims(res)!, input, requestInfo(req), key);
    res.setHeader('Cache-Control', 'no-store');
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(201).json(session);
  });

  r.get('/', authenticateCaller(deps, { apiKeyRole: 'reader', agent: true }), async (req, res) => {
    const q = SessionListQuery.parse(req.query);
    const agent = agentClaims(res);
    res.json(agent ? await sessions.list(agent.org_id, q, sessionCaller(agent)) : await sessions.list(req.apiKey!.organizationId, q));
  });

  r.get('/:id', authenticateCaller(deps, { apiKeyRole: 'reader', agent: true }), async (req, res) => {
    const agent = agentClaims(res);
    res.json(agent ? await sessions.get(agent.org_id, param(req, 'id'), sessionCaller(agent)) : await sessions.get(req.apiKey!.organizationId, param(req, 'id')));
  });

  r.post('/:id/operations', authenticateCaller(deps, { apiKeyRole: 'operator' }), async (req, res) => {
    const input = SessionOperation.parse(req.body);
    res.json(await sessions.recordOperation(auditContext(req), param(req, 'id'), input));
  });

  r.delete('/:id', authenticateCaller(deps, { apiKeyRole: 'operator', agent: true }), async (req, res) => {
    const agent = agentClaims(res);
    res.json(agent
      ? await sessions.end(tokens.agentContext(agent.org_id, agent.sub, requestInfo(req)), param(req, 'id'), sessionCaller(agent))
      : await sessions.end(auditContext(req), param(req, 'id')));
  });

  return r;
}
