/**
 * /v1/sessions: agents open their bounded sessions, renew a session's token and end them with
 * their access token; relying services record operations with an API key (operator or admin:
 * recording spends the budget); readers list and get. An agent sees only its own sessions; a
 * session token only its own session (another session is 404, and it cannot open sessions or
 * renew tokens).
 */
import { IdParams } from '../schemas/params';
import { sessionCaller, SessionService } from '../services/sessions';
import type { TokenService } from '../services/tokens';
import { SessionCreate, SessionListQuery, SessionOperation, SessionPage, SessionView } from '../sessions/schemas';
import { auditContext } from '../middleware/auth';
import { created } from './idempotency';
import { auth, manifest, REST } from './manifest';

export interface SessionRouteDeps {
  sessions: SessionService;
  tokens: TokenService;
}

export const sessionRoutes = manifest<SessionRouteDeps>('sessions', (route) => [
  route({
    ...REST, method: 'post', path: '/v1/sessions', summary: 'Open a bounded session (Bearer: the agent\'s access token); returns a session-bound token',
    auth: auth.agent({ sessionTokens: false }), body: SessionCreate, idempotent: true, responses: { 201: SessionView },
    handle: async ({ caller, body, idempotencyKey, request }, { sessions }) => {
      const { session, replayed } = await sessions.create(caller.claims, body, request, idempotencyKey);
      return created({ response: session, replayed });
    },
  }),
  // The session's token expires with the access token it was minted from: the agent renews it with
  // a fresh access token of its own (never a session token), which then bounds the new one.
  route({
    ...REST, method: 'post', path: '/v1/sessions/{id}/token', summary: 'Renew the session\'s token (Bearer: a fresh access token of the agent); the new token expires with that one at the latest',
    auth: auth.agent({ sessionTokens: false }), params: IdParams, responses: { 200: SessionView },
    handle: async ({ caller, params, request }, { sessions }) => ({
      body: await sessions.renewToken(caller.claims, params.id, request), headers: { 'Cache-Control': 'no-store' },
    }),
  }),
  route({
    ...REST, method: 'get', path: '/v1/sessions', summary: 'List sessions (API key: reader; an agent sees its own)',
    auth: auth.apiKeyOrAgent('reader'), query: SessionListQuery, responses: { 200: SessionPage },
    handle: async ({ caller, query }, { sessions }) => ({
      body: caller.kind === 'agent' ? await sessions.list(caller.claims.org_id, query, sessionCaller(caller.claims)) : await sessions.list(caller.key.organizationId, query),
    }),
  }),
  route({
    ...REST, method: 'get', path: '/v1/sessions/{id}', summary: 'Get a session (API key: reader; or the agent)',
    auth: auth.apiKeyOrAgent('reader'), params: IdParams, responses: { 200: SessionView },
    handle: async ({ caller, params }, { sessions }) => ({
      body: caller.kind === 'agent' ? await sessions.get(caller.claims.org_id, params.id, sessionCaller(caller.claims)) : await sessions.get(caller.key.organizationId, params.id),
    }),
  }),
  route({
    ...REST, method: 'post', path: '/v1/sessions/{id}/operations', summary: 'Record an operation against the session (403 when outside scope, budget, time)',
    auth: auth.apiKey('operator'), params: IdParams, body: SessionOperation, responses: { 200: SessionView }, errors: [409],
    handle: async ({ caller, params, body, request }, { sessions }) => ({ body: await sessions.recordOperation(auditContext(caller, request), params.id, body) }),
  }),
  route({
    ...REST, method: 'delete', path: '/v1/sessions/{id}', summary: 'End a session (the agent with its token, or an operator API key)',
    auth: auth.apiKeyOrAgent('operator'), params: IdParams, responses: { 200: SessionView },
    handle: async ({ caller, params, request }, { sessions, tokens }) => ({
      body: caller.kind === 'agent'
        ? await sessions.end(tokens.agentContext(caller.claims.org_id, caller.claims.sub, request), params.id, sessionCaller(caller.claims))
        : await sessions.end(auditContext(caller, request), params.id),
    }),
  }),
]);
