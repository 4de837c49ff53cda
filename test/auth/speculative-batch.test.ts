/**
 * The token endpoint's group commit writes a batch whose every request is expected to pass in one
 * speculative statement (AuthWriter.speculate, db/operations/tokens.ts authorizeAndAppend). These
 * tests make each assumption false between the request's check and the batch's write — a chain
 * head moved by another process, a replayed jti, a suspended agent, a removed key, changed scopes
 * — and show that the statement then writes nothing and the locking path decides each request as
 * before, the chain staying linear and verifiable; and that a batch that holds is one statement.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { readMasterKey } from '../../api/src/crypto/master-key';
import { createLogger } from '../../api/src/logger';
import { AuditLog, type AuditContext } from '../../api/src/services/audit';
import { AuthWriter, IssueOutcome, IssueRequest } from '../../api/src/tokens/auth-writer';
import { startTestServer, TestServer } from '../support/server';
import { admin, createAgent, TestAgent } from './helpers';

let s: TestServer;
let agent: TestAgent;
let kid: string;
let writer: AuthWriter;
let clock = 1_000_000;

beforeAll(async () => {
  s = await startTestServer();
  agent = await createAgent(s);
  kid = (await admin(s).get(`/v1/agents/${agent.id}/keys`)).body.data[0].kid;
  writer = new AuthWriter(s.running.db.knex, s.running.services.audit, createLogger('silent'), { now: () => clock });
});
afterAll(async () => {
  await writer?.drain();
  await s?.close();
});

const ctx = (a: TestAgent): AuditContext => ({ organizationId: s.organizationId, actorType: 'agent', actorId: a.id, requestId: randomUUID(), clientIp: '192.0.2.1' });
const issue = (o: Partial<IssueRequest> & { as?: TestAgent } = {}): Promise<IssueOutcome> => {
  const a = o.as ?? agent;
  const jti = o.jti ?? randomUUID();
  const { as: _as, ...rest } = o;
  void _as;
  return writer.issue({
    ctx: ctx(a), method: 'private_key_jwt', agentId: a.id, kid, scopes: null, agentScopes: a.scopes, jti, assertionExpiresAt: new Date(Date.now() + 60_000),
    success: { action: 'agent.authenticated', targetType: 'agent', targetId: a.id, data: { method: 'private_key_jwt', kid, token_jti: jti } },
    ...rest,
  });
};
/** A batch: the idle writer flushes the first request alone, the rest queue behind it into one batch. */
const batch = (requests: Array<() => Promise<IssueOutcome>>) => Promise.all(requests.map((r) => r()));
const stats = () => ({ ...writer.stats });
const delta = (before: { speculated: number; refused: number }) => ({ speculated: writer.stats.speculated - before.speculated, refused: writer.stats.refused - before.refused });
/** Moves the cool-down clock past any refusal's cool-down. */
const coolDown = () => (clock += 2_000);

async function authenticatedEvents(agentId: string): Promise<Array<Record<string, any>>> {
  const res = await admin(s).get(`/v1/audit-events?agent_id=${agentId}&action=agent.authenticated&limit=500`);
  expect(res.status).toBe(200);
  return res.body.data;
}
const chainValid = async () => (await admin(s).get('/v1/audit-events/verify?full=true')).body.valid as boolean;

test('a batch whose every request passes is written by one statement per flush, audited and stamped as the locking path does', async () => {
  const before = stats();
  const jtis = Array.from({ length: 6 }, () => randomUUID());
  const outcomes = await batch(jtis.map((jti) => () => issue({ jti })));
  expect(outcomes.every((o) => o.ok)).toBe(true);
  // The agent's creation was audited in this process, so its organization's head is known from the start.
  expect(delta(before)).toEqual({ speculated: 2, refused: 0 });
  for (const o of outcomes) expect(o).toMatchObject({ ok: true, scopes: agent.scopes });
  const events = (await authenticatedEvents(agent.id)).filter((e) => jtis.includes(e.data.token_jti));
  expect(events).toHaveLength(6);
  for (const e of events) expect(e).toMatchObject({ actor_type: 'agent', actor_id: agent.id, target_id: agent.id, outcome: 'success', data: { scopes: agent.scopes } });
  expect((await admin(s).get(`/v1/agents/${agent.id}`)).body.last_auth_at).not.toBeNull();
  expect(await chainValid()).toBe(true);
});

test('a head moved by another process: the statement writes nothing, the locking path writes the batch, the chain stays linear', async () => {
  // Another replica: its own AuditLog with the same master key, appending to the same chain.
  const other = new AuditLog(readMasterKey(s.config.masterKey, s.store.dataDir)!.keys.auditChain);
  await other.withAudit(s.running.db.knex, async (_tx, unit) => unit.append(ctx(agent), { action: 'agent.updated', targetType: 'agent', targetId: agent.id }));
  coolDown();
  const before = stats();
  const outcomes = await batch([() => issue(), () => issue()]);
  expect(outcomes.every((o) => o.ok)).toBe(true);
  expect(delta(before)).toEqual({ speculated: 0, refused: 1 });
  expect(await chainValid()).toBe(true);

  // Within the cool-down the organization's batches take the locking path without trying; after it, the (now known) head is used again.
  const during = stats();
  expect((await issue()).ok).toBe(true);
  expect(delta(during)).toEqual({ speculated: 0, refused: 0 });
  coolDown();
  const after = stats();
  expect((await issue()).ok).toBe(true);
  expect(delta(after)).toEqual({ speculated: 1, refused: 0 });
  expect(await chainValid()).toBe(true);
});

test('a jti used since the request was checked: refused speculation, and the locking path refuses only the replay', async () => {
  coolDown();
  const used = randomUUID();
  await s.running.db.knex('assertion_jtis').insert({ agent_id: agent.id, jti: used, expires_at: new Date(Date.now() + 60_000) });
  await issue(); // the head is known, the writer idle
  const before = stats();
  const outcomes = await batch([() => issue(), () => issue({ jti: used }), () => issue()]);
  expect(outcomes.map((o) => (o.ok ? 'ok' : o.reason))).toEqual(['ok', 'assertion_replayed', 'ok']);
  expect(delta(before).refused).toBe(1);
  expect(await chainValid()).toBe(true);
});

test('a key removed, an agent suspended, scopes changed since the check: the locking path decides each request', async () => {
  const other = await createAgent(s, { scopes: ['payments:read', 'payments:write'] });
  const otherKid = (await admin(s).get(`/v1/agents/${other.id}/keys`)).body.data[0].kid;
  const asOther = (o: Partial<IssueRequest> = {}) => issue({ as: other, kid: otherKid, ...o });

  coolDown();
  await issue();
  let before = stats();
  // The request saw scopes the agent no longer has: it asked for all of them, and gets the current ones.
  const stale = await batch([() => issue(), () => asOther({ agentScopes: ['payments:read', 'payments:write', 'reports:read'] })]);
  expect(stale).toEqual([expect.objectContaining({ ok: true }), expect.objectContaining({ ok: true, scopes: ['payments:read', 'payments:write'] })]);
  expect(delta(before).refused).toBe(1);

  coolDown();
  await issue();
  before = stats();
  expect(await batch([() => issue(), () => asOther({ kid: 'removed-key' })])).toEqual([expect.objectContaining({ ok: true }), { ok: false, reason: 'key_removed' }]);
  expect(delta(before).refused).toBe(1);

  await request(s.url).post(`/v1/agents/${other.id}/suspend`).set('Authorization', `Bearer ${s.apiKey}`).expect(200);
  coolDown();
  await issue();
  before = stats();
  expect(await batch([() => issue(), () => asOther()])).toEqual([expect.objectContaining({ ok: true }), { ok: false, reason: 'agent_not_active' }]);
  expect(delta(before).refused).toBe(1);
  expect((await authenticatedEvents(other.id)).map((e) => e.data.scopes)).toEqual([['payments:read', 'payments:write']]);
  expect(await chainValid()).toBe(true);
});

test('a status change after the batch took its time: the token is never dated before it', async () => {
  coolDown();
  await issue();
  // The agent's last status change lies after the batch's clock (another replica's clock runs ahead).
  const ahead = new Date(Date.now() + 5_000);
  await s.running.db.knex('agents').where({ id: agent.id }).update({ status_changed_at: ahead });
  const before = stats();
  const [a, b] = await batch([() => issue(), () => issue()]);
  expect(delta(before).refused).toBe(1);
  for (const o of [a!, b!]) expect(o.ok && o.issuedAtMs).toBeGreaterThanOrEqual(ahead.getTime());
});
