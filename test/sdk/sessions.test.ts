/** client.sessions, token revocation, and an agent ending its own session, against a real control plane. */
import {
  AgentCredentials,
  AuthenticationError,
  CertusOrdoClient,
  NotFoundError,
  PermissionDeniedError,
  type Session,
} from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
let client: CertusOrdoClient;

beforeAll(async () => {
  server = await startTestServer();
  client = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
});
afterAll(async () => server?.close());

async function newAgent(name: string): Promise<{ id: string; creds: AgentCredentials }> {
  const agent = await client.agents.create({ name, scopes: ['payments:read', 'payments:write', 'reports:*'] });
  return { id: agent.id, creds: AgentCredentials.fromSecret(agent.secret!, { baseUrl: server.url }) };
}

it('an agent opens a session; the admin records operations until the budget is spent, then ends it', async () => {
  const { id: agentId, creds } = await newAgent('sess-budget');
  expect(await creds.getToken()).toMatch(/^ey/);
  const opened = await creds.openSession({ scopes: ['payments:read', 'reports:*'], ttlSeconds: 600, maxOperations: 3, purpose: 'reconcile' });
  expect(opened.accessToken).toMatch(/^ey/);

  const got = await client.sessions.get(opened.id);
  expect(got).toEqual({
    id: opened.id,
    agentId,
    scopes: ['payments:read', 'reports:*'],
    maxOperations: 3,
    operationsUsed: 0,
    status: 'active',
    purpose: 'reconcile',
    createdAt: expect.any(Date),
    expiresAt: expect.any(Date),
    endedAt: null,
    endReason: null,
  });
  expect(got).not.toHaveProperty('accessToken');
  expect(got.expiresAt.getTime() - got.createdAt.getTime()).toBeGreaterThan(590_000);

  // a scope outside the session is refused without spending the budget
  const outside = await client.sessions.recordOperation(opened.id, { scope: 'payments:write' }).catch((e: unknown) => e);
  expect(outside).toBeInstanceOf(PermissionDeniedError);
  expect((outside as PermissionDeniedError).details).toEqual([{ path: 'reason', message: 'scope_not_in_session' }]);

  let s: Session | undefined;
  for (let i = 1; i <= 3; i++) {
    s = await client.sessions.recordOperation(opened.id, { scope: i === 2 ? 'reports:daily' : 'payments:read', description: `op ${i}` });
    expect(s.operationsUsed).toBe(i);
  }
  expect(s!.status).toBe('exhausted');
  expect((await client.introspect(opened.accessToken)).active).toBe(false);

  const denied = await client.sessions.recordOperation(opened.id, { scope: 'payments:read' }).catch((e: unknown) => e);
  expect(denied).toBeInstanceOf(PermissionDeniedError);
  expect((denied as PermissionDeniedError).details).toEqual([{ path: 'reason', message: 'budget_exhausted' }]);

  const ended = await client.sessions.end(opened.id);
  expect(ended.id).toBe(opened.id);
  expect(ended.operationsUsed).toBe(3);
  // ending is idempotent
  expect((await client.sessions.end(opened.id)).id).toBe(opened.id);
});

it('an agent ends its own session; the admin ends another; list filters and pages', async () => {
  const { id: agentId, creds } = await newAgent('sess-list');
  const a = await creds.openSession({ scopes: ['payments:read'], purpose: 'a' });
  const b = await creds.openSession({ scopes: ['payments:read'], maxOperations: 10, purpose: 'b' });
  const c = await creds.openSession({ scopes: ['reports:daily'], purpose: 'c' });

  const byAgent = await creds.endSession(a.id);
  expect(byAgent).toMatchObject({ id: a.id, status: 'ended', endReason: 'ended_by_agent' });
  expect(byAgent.endedAt).toBeInstanceOf(Date);
  expect((await client.introspect(a.accessToken)).active).toBe(false);
  expect((await creds.getSession(a.id)).status).toBe('ended');

  const byAdmin = await client.sessions.end(b.id);
  expect(byAdmin).toMatchObject({ status: 'ended', endReason: 'ended_by_api_key' });

  // every session of the agent, in creation order, over pages of 1
  const all = await client.sessions.list({ agentId, limit: 1 }).toArray();
  expect(all.map((s) => s.id)).toEqual([a.id, b.id, c.id]);
  const first = await client.sessions.list({ agentId, limit: 2 });
  expect(first.data).toHaveLength(2);
  expect(first.hasNextPage()).toBe(true);
  expect((await first.nextPage()).data.map((s) => s.id)).toEqual([c.id]);

  const active: string[] = [];
  for await (const s of client.sessions.list({ agentId, status: 'active' })) active.push(s.id);
  expect(active).toEqual([c.id]);
  expect((await client.sessions.list({ agentId, status: 'ended' })).data.map((s) => s.endReason)).toEqual(['ended_by_agent', 'ended_by_api_key']);

  await expect(client.sessions.get('non-existent-id')).rejects.toBeInstanceOf(NotFoundError);
  await expect(client.sessions.end('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);

  // another agent cannot see or end this agent's session
  const other = await newAgent('sess-other');
  await expect(other.creds.getSession(c.id)).rejects.toBeInstanceOf(NotFoundError);
  await expect(other.creds.endSession(c.id)).rejects.toBeInstanceOf(NotFoundError);
});

it('reader keys can list but not record operations or end sessions', async () => {
  const { creds } = await newAgent('sess-reader');
  const s = await creds.openSession({ scopes: ['payments:read'] });
  const reader = new CertusOrdoClient({ apiKey: await server.createApiKey('reader'), baseUrl: server.url });
  expect((await reader.sessions.get(s.id)).id).toBe(s.id);
  await expect(reader.sessions.recordOperation(s.id, { scope: 'payments:read' })).rejects.toBeInstanceOf(PermissionDeniedError);
  await expect(reader.sessions.end(s.id)).rejects.toBeInstanceOf(PermissionDeniedError);
  await expect(reader.revokeToken(s.accessToken)).rejects.toBeInstanceOf(PermissionDeniedError);
});

it('token revocation: by the admin client, and by the agent giving up its own token', async () => {
  const { creds } = await newAgent('sess-revoke');
  const t1 = await creds.getToken();
  expect((await client.introspect(t1)).active).toBe(true);
  await client.revokeToken(t1);
  expect((await client.introspect(t1)).active).toBe(false);
  await client.revokeToken('not-a-token'); // RFC 7009: 200 for anything well-formed

  const t2 = await creds.getToken({ forceRefresh: true });
  expect(t2).not.toBe(t1);
  await creds.revokeToken(t2);
  expect((await client.introspect(t2)).active).toBe(false);
  const t3 = await creds.getToken(); // the revoked token left the cache
  expect(t3).not.toBe(t2);
  expect((await client.introspect(t3)).active).toBe(true);

  // a session's token, given up by the agent: the session itself stays open
  const s = await creds.openSession({ scopes: ['payments:read'] });
  await creds.revokeToken(s.accessToken);
  expect((await client.introspect(s.accessToken)).active).toBe(false);

  // with no argument: every cached token
  await creds.revokeToken();
  expect((await client.introspect(t3)).active).toBe(false);

  // a bad API key is an authentication error, and the token is not revoked
  const t4 = await creds.getToken();
  const bad = new CertusOrdoClient({ apiKey: 'aa_not_a_key', baseUrl: server.url, maxRetries: 0 });
  await expect(bad.revokeToken(t4)).rejects.toBeInstanceOf(AuthenticationError);
  expect((await client.introspect(t4)).active).toBe(true);
});

it('an agent renews its session\'s token: bounded by its current access token; a session whose opener was revoked stays ended', async () => {
  const { creds } = await newAgent('sess-renew');
  const opener = await creds.getToken();
  const opened = await creds.openSession({ scopes: ['payments:read'], ttlSeconds: 3600 });
  const exp = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')).exp as number;
  expect(exp(opened.accessToken)).toBe(exp(opener)); // the session lasts an hour, its token no longer than its parent

  const fresh = await creds.getToken({ forceRefresh: true });
  const renewed = await creds.renewSessionToken(opened.id);
  expect(renewed).toMatchObject({ id: opened.id, status: 'active', scopes: ['payments:read'] });
  expect(exp(renewed.accessToken)).toBe(exp(fresh));
  expect(await client.introspect(renewed.accessToken)).toMatchObject({ active: true, sid: opened.id });

  await creds.revokeToken(opener);
  const refused = await creds.renewSessionToken(opened.id).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(PermissionDeniedError);
  expect((refused as PermissionDeniedError).details).toEqual([{ path: 'reason', message: 'session_ended' }]);
  expect(await client.sessions.get(opened.id)).toMatchObject({ status: 'ended', endReason: 'parent_token_revoked' });
});
