/**
 * The audited unit of work (AuditLog.withAudit): one lock order for every audited change, single
 * and batch appends, nothing written by a unit that fails. Driven through the real server (agents,
 * sessions, tokens, API keys changing one organization at once) and directly.
 */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { untilLockWaiters } from '../support/pg-locks';
import { admin, createAgent, getToken, requestToken, TestAgent } from './helpers';
import { systemContext } from '../../api/src/services/organizations';

let s: TestServer;
let operator: string;
beforeAll(async () => {
  s = await startTestServer();
  operator = await s.createApiKey('operator');
});
afterAll(async () => s?.close());

const bearer = (token: string) => ({
  post: (path: string, body: object = {}) => request(s.url).post(path).set('Authorization', `Bearer ${token}`).send(body),
  del: (path: string) => request(s.url).delete(path).set('Authorization', `Bearer ${token}`),
});

async function openSession(agent: TestAgent): Promise<{ id: string; parent: string }> {
  const parent = await getToken(s, agent);
  const res = await bearer(parent).post('/v1/sessions', { scopes: ['payments:read'], ttl_seconds: 600, max_operations: 50 });
  if (res.status !== 201) throw new Error(`open session: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, parent };
}

async function countEvents(orgId: string, action: string): Promise<number> {
  const row = await s.running.db.knex('audit_events').where({ organization_id: orgId, action }).count<{ n: string | number }[]>('* as n');
  return Number(row[0]!.n);
}

test('concurrent audited changes from sessions, agents, tokens and keys in one organization neither deadlock nor lose events, and the chain verifies', async () => {
  const agents = await Promise.all(Array.from({ length: 3 }, (_, i) => createAgent(s, { name: `uow-${i}`, scopes: ['payments:read', 'payments:write'] })));
  const sessions = (await Promise.all(agents.map(async (a) => [await openSession(a), await openSession(a)]))).flat();
  const [opsBefore, deniedBefore] = [await countEvents(s.organizationId, 'session.operation'), await countEvents(s.organizationId, 'session.operation_denied')];

  // Every kind of audited change at once, each taking its locks in its own order of rows:
  // agent row → chain head → session rows (suspensions end sessions), chain head → session row
  // (operations, ends), revoked token → chain head → sessions (revocation), agent rows → chain
  // heads (the token writer's batches), organization row → chain head (API keys).
  const work: Promise<request.Response>[] = [];
  const operations: Promise<request.Response>[] = [];
  for (const [i, a] of agents.entries()) {
    work.push(admin(s).post(`/v1/agents/${a.id}/suspend`, { reason: 'uow' }).then(() => admin(s).post(`/v1/agents/${a.id}/activate`)));
    work.push(admin(s).patch(`/v1/agents/${a.id}`, { metadata: { round: String(i) } }));
    work.push(requestToken(s, a));
    work.push(requestToken(s, a, { scope: 'payments:read' }));
  }
  for (const [i, sess] of sessions.entries()) {
    for (let k = 0; k < 3; k++) operations.push(bearer(operator).post(`/v1/sessions/${sess.id}/operations`, { scope: 'payments:read' }));
    if (i % 3 === 0) work.push(bearer(operator).del(`/v1/sessions/${sess.id}`));
    if (i % 3 === 1) work.push(request(s.url).post('/v1/oauth/revoke').set('Authorization', `Bearer ${operator}`).type('form').send({ token: sess.parent }));
  }
  work.push(admin(s).post('/v1/agents', { name: 'uow-new', scopes: ['payments:read'] }));
  work.push(admin(s).post('/v1/api-keys', { name: 'uow-key', role: 'reader' }));
  const [responses, opResponses] = await Promise.all([Promise.all(work), Promise.all(operations)]);
  await s.running.settleAuthAudit();

  const failures = [...responses, ...opResponses].filter((r) => r.status >= 500).map((r) => `${r.status} ${JSON.stringify(r.body)}`);
  expect(failures).toEqual([]);

  // Every recorded (and every refused) operation left exactly its event.
  const recorded = opResponses.filter((r) => r.status === 200).length;
  const refused = opResponses.filter((r) => r.status === 403).length;
  expect(recorded + refused).toBe(sessions.length * 3);
  expect(await countEvents(s.organizationId, 'session.operation')).toBe(opsBefore + recorded);
  expect(await countEvents(s.organizationId, 'session.operation_denied')).toBe(deniedBefore + refused);

  const verify = await admin(s).get('/v1/audit-events/verify?full=true');
  expect(verify.status).toBe(200);
  expect(verify.body).toMatchObject({ valid: true, first_broken_seq: null });
  const head = await s.running.db.knex('audit_chain_heads').where({ organization_id: s.organizationId }).first();
  expect(verify.body.seq).toBe(Number(head.last_seq));
  expect(await s.running.db.knex('audit_events').where({ organization_id: s.organizationId }).count<{ n: string | number }[]>('* as n').then((r) => Number(r[0]!.n))).toBe(Number(head.last_seq));
});

/**
 * The interleaving that deadlocks when a unit touches session rows before the chain head: a
 * session end queues for the head first, then a suspension of the session's agent arrives. With
 * the one lock order the suspension waits for the head before it ends the agent's sessions, so
 * both commit. PostgreSQL only: PGlite has one connection, so nothing there waits for a lock.
 */
test('a session end and a suspension of its agent, queued on the chain head in the order that would deadlock, both commit', async () => {
  if (s.running.db.backend !== 'postgres') return;
  const knex = s.running.db.knex;
  const agent = await createAgent(s, { scopes: ['payments:read'] });
  const session = await openSession(agent);
  const blocker = await knex.transaction();
  let end: Promise<request.Response>;
  let suspend: Promise<request.Response>;
  try {
    await blocker.raw('select 1 from audit_chain_heads where organization_id = ? for update', [s.organizationId]);
    end = bearer(operator).del(`/v1/sessions/${session.id}`).then((r) => r);
    await untilLockWaiters(knex, (n) => n >= 1);
    suspend = admin(s).post(`/v1/agents/${agent.id}/suspend`, { reason: 'lock order' }).then((r) => r);
    await untilLockWaiters(knex, (n) => n >= 2);
  } finally {
    await blocker.commit();
  }
  const [ended, suspended] = await Promise.all([end!, suspend!]);
  expect([ended.status, suspended.status]).toEqual([200, 200]);
  expect(ended.body).toMatchObject({ id: session.id, status: 'ended', end_reason: 'ended_by_api_key' });
  expect(suspended.body).toMatchObject({ status: 'suspended' });
  expect((await admin(s).get('/v1/audit-events/verify?full=true')).body).toMatchObject({ valid: true });
});

describe('the unit of work itself', () => {
  const knex = () => s.running.db.knex;
  const audit = () => s.running.services.audit;
  const head = async (orgId: string) => Number((await knex()('audit_chain_heads').where({ organization_id: orgId }).first()).last_seq);

  test('a batch appends events of several organizations in one unit, each chain in order', async () => {
    const a = await s.createOrganization();
    const b = await s.createOrganization();
    const [a0, b0] = [await head(a.organizationId), await head(b.organizationId)];
    const event = (orgId: string, n: number) => ({ ctx: systemContext(orgId), event: { action: 'test.batch', data: { n } } });
    await audit().withAudit(knex(), async (_tx, unit) => {
      unit.appendMany([event(b.organizationId, 1), event(a.organizationId, 1), event(b.organizationId, 2)]);
      unit.append(systemContext(a.organizationId), { action: 'test.batch', data: { n: 2 } });
    });
    expect([await head(a.organizationId), await head(b.organizationId)]).toEqual([a0 + 2, b0 + 2]);
    const rows = await knex()('audit_events').whereIn('organization_id', [a.organizationId, b.organizationId]).andWhere({ action: 'test.batch' }).orderBy(['organization_id', 'seq']);
    const seqs = (orgId: string) => rows.filter((r) => r.organization_id === orgId).map((r) => [Number(r.seq), r.data.n]);
    expect(seqs(a.organizationId)).toEqual([[a0 + 1, 1], [a0 + 2, 2]]);
    expect(seqs(b.organizationId)).toEqual([[b0 + 1, 1], [b0 + 2, 2]]);
    for (const o of [a, b]) expect(await audit().verify(knex(), o.organizationId, { full: true })).toMatchObject({ valid: true });
  });

  test('a unit that holds a head early belongs to that organization, and a failed unit writes nothing', async () => {
    const a = await s.createOrganization();
    const b = await s.createOrganization();
    const a0 = await head(a.organizationId);
    await expect(audit().withAudit(knex(), async (_tx, unit) => {
      unit.append(systemContext(a.organizationId), { action: 'test.rolled_back' });
      await unit.lockHead(a.organizationId);
      unit.append(systemContext(b.organizationId), { action: 'test.rolled_back' });
    })).rejects.toThrow(/holds organization .* chain head/);
    await expect(audit().withAudit(knex(), async (_tx, unit) => {
      unit.append(systemContext(b.organizationId), { action: 'test.rolled_back' });
      await unit.lockHead(a.organizationId);
    })).rejects.toThrow(/belongs to one organization/);
    expect(await head(a.organizationId)).toBe(a0);
    expect(await knex()('audit_events').where({ action: 'test.rolled_back' }).first()).toBeUndefined();

    // A head taken early serves the unit's appends (no second lock), in queue order.
    await audit().withAudit(knex(), async (_tx, unit) => {
      unit.append(systemContext(a.organizationId), { action: 'test.early', data: { n: 1 } });
      await unit.lockHead(a.organizationId);
      unit.append(systemContext(a.organizationId), { action: 'test.early', data: { n: 2 } });
    });
    const early = await knex()('audit_events').where({ organization_id: a.organizationId, action: 'test.early' }).orderBy('seq');
    expect(early.map((r) => [Number(r.seq), r.data.n])).toEqual([[a0 + 1, 1], [a0 + 2, 2]]);
    expect(await audit().verify(knex(), a.organizationId, { full: true })).toMatchObject({ valid: true });
  });
});
