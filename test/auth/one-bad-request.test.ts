/**
 * One request cannot hurt the others: a client assertion whose claims break the text rule is
 * refused at authentication (invalid_client), a batch of the group-committed writer that the
 * database refuses fails only the request that carries the refused value, an error at issuance
 * counts against the failure budgets like any refusal, and only a request that passed the key and
 * jti checks stamps its agent's last_auth_at.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createLogger } from '../../api/src/logger';
import type { AuditContext } from '../../api/src/services/audit';
import { AuthWriter, IssueOutcome, IssueRequest } from '../../api/src/tokens/auth-writer';
import { startTestServer, TestServer } from '../support/server';
import { admin, createAgent, requestToken, TestAgent } from './helpers';

/** Every audit event of the organization about `agentId` with `action`, through the API (all pages). */
async function events(s: TestServer, apiKey: string, agentId: string, action: string): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  let cursor: string | null = null;
  do {
    const res: request.Response = await admin(s, apiKey).get(`/v1/audit-events?agent_id=${agentId}&action=${action}&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return out;
}

const NUL_JTI = () => `\u0000${randomUUID()}`;

describe('a NUL jti from one organization', () => {
  let s: TestServer;
  let attacker: TestAgent;
  let other: { apiKey: string; agent: TestAgent };
  beforeAll(async () => {
    s = await startTestServer();
    attacker = await createAgent(s);
    const org = await s.createOrganization('admin');
    other = { apiKey: org.apiKey, agent: await createAgent(s, {}, org.apiKey) };
  });
  afterAll(async () => s?.close());

  test('is refused as invalid_client at authentication, with the rule in the message', async () => {
    const res = await requestToken(s, attacker, {}, { jti: NUL_JTI() });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client_assertion claim jti must not contain U+0000 (NUL)' });
    const surrogate = await requestToken(s, attacker, {}, { jti: `\uD800${randomUUID()}` });
    expect(surrogate.status).toBe(401);
    expect(surrogate.body.error_description).toMatch(/^client_assertion claim jti must not contain an unpaired UTF-16 surrogate/);
    const kid = await requestToken(s, attacker, {}, { kid: 'k\u0000' });
    expect(kid.body).toEqual({ error: 'invalid_client', error_description: 'client_assertion header kid must not contain U+0000 (NUL)' });
  });

  test('while it floods, another organization\'s agent gets every token it asks for, and every audit event of them is written', async () => {
    const VICTIM_LOOPS = 4;
    const PER_LOOP = 15;
    let attacks = 0;
    let victimDone = false;
    const attackStatuses = new Set<number>();
    const attackLoop = async () => {
      while (!victimDone) {
        attacks++;
        attackStatuses.add((await requestToken(s, attacker, {}, { jti: NUL_JTI() })).status);
      }
    };
    const victimLoop = async () => {
      while (attacks < 8) await new Promise((r) => setImmediate(r)); // the flood is under way
      const statuses: number[] = [];
      for (let i = 0; i < PER_LOOP; i++) statuses.push((await requestToken(s, other.agent)).status);
      return statuses;
    };
    const victims = Promise.all(Array.from({ length: VICTIM_LOOPS }, victimLoop)).finally(() => (victimDone = true));
    const [statuses] = await Promise.all([victims, ...Array.from({ length: 4 }, attackLoop)]);
    expect(statuses.flat()).toEqual(Array(VICTIM_LOOPS * PER_LOOP).fill(200));
    // Refused (401), or throttled once the address's failure budget is spent (429); never a 5xx.
    expect([...attackStatuses].every((x) => x === 401 || x === 429)).toBe(true);
    expect(await events(s, other.apiKey, other.agent.id, 'agent.authenticated')).toHaveLength(VICTIM_LOOPS * PER_LOOP);
  });
});

describe('the auth writer', () => {
  let s: TestServer;
  let agent: TestAgent;
  let kid: string;
  let writer: AuthWriter;
  beforeAll(async () => {
    s = await startTestServer();
    agent = await createAgent(s);
    kid = (await admin(s).get(`/v1/agents/${agent.id}/keys`)).body.data[0].kid;
    writer = new AuthWriter(s.running.db.knex, s.running.services.audit, createLogger('silent'));
  });
  afterAll(async () => {
    await writer?.drain();
    await s?.close();
  });

  const ctx = (): AuditContext => ({ organizationId: s.organizationId, actorType: 'agent', actorId: agent.id, requestId: randomUUID(), clientIp: '192.0.2.1' });
  const issue = (o: Partial<IssueRequest> = {}): Promise<IssueOutcome> => {
    const jti = o.jti ?? randomUUID();
    return writer.issue({
      ctx: ctx(), method: 'private_key_jwt', agentId: agent.id, kid, scopes: null, agentScopes: agent.scopes, jti, assertionExpiresAt: new Date(Date.now() + 60_000),
      success: { action: 'agent.authenticated', targetType: 'agent', targetId: agent.id, data: { method: 'private_key_jwt', kid, token_jti: jti } },
      ...o,
    });
  };
  const lastAuthAt = async () => (await admin(s).get(`/v1/agents/${agent.id}`)).body.last_auth_at as string | null;

  test('only a request that passed the key and jti checks stamps last_auth_at', async () => {
    const used = randomUUID();
    await s.running.db.knex('assertion_jtis').insert({ agent_id: agent.id, jti: used, expires_at: new Date(Date.now() + 60_000) });
    expect(await Promise.all([issue({ kid: 'removed-key' }), issue({ jti: used })])).toEqual([
      { ok: false, reason: 'key_removed' }, { ok: false, reason: 'assertion_replayed' },
    ]);
    expect(await lastAuthAt()).toBeNull();
    const ok = await issue();
    expect(ok.ok).toBe(true);
    expect(new Date((await lastAuthAt())!).getTime()).toBeGreaterThan(0);
  });

  test('a value the database refuses fails its own request alone; the rest of its batch commits, audited', async () => {
    const first = issue(); // an idle writer flushes its first request alone; the next ones queue into one batch
    const batch = [issue(), issue({ jti: NUL_JTI() }), issue(), issue(), issue({ jti: NUL_JTI() }), issue()];
    const settled = await Promise.allSettled([first, ...batch]);
    const summary = settled.map((r) => (r.status === 'fulfilled' ? r.value.ok : 'rejected'));
    expect(summary).toEqual([true, true, 'rejected', true, true, 'rejected', true]);
    const jtis = (await events(s, s.apiKey, agent.id, 'agent.authenticated')).map((e) => e.data.token_jti);
    expect(jtis).toHaveLength(1 + 5); // the stamp test's token, and these five
    expect((await admin(s).get('/v1/audit-events/verify')).body.valid).toBe(true);
  });
});

describe('an error at issuance', () => {
  let s: TestServer;
  let agent: TestAgent;
  beforeAll(async () => {
    // A frozen clock: a spent failure budget stays spent.
    const now = Date.now();
    s = await startTestServer({ clock: () => now });
    agent = await createAgent(s);
    // Fault injection in the real database: the writer's statement is refused for these jtis.
    await s.running.db.knex.raw(`
      create function test_poison_jti() returns trigger language plpgsql as $$
      begin
        if new.jti like 'poison-%' then raise exception 'poisoned jti' using errcode = '22023'; end if;
        return new;
      end $$`);
    await s.running.db.knex.raw('create trigger test_poison_jti before insert on assertion_jtis for each row execute function test_poison_jti()');
  });
  afterAll(async () => s?.close());

  test('counts against the failure budgets (then 429 slow_down), while the agent\'s valid requests still get tokens', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      statuses.push((await requestToken(s, agent, {}, { jti: `poison-${randomUUID()}` })).status);
      if (i === 10) expect((await requestToken(s, agent)).status).toBe(200);
    }
    // The agent's failure budget is 20.
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(500));
    expect(statuses.slice(20)).toEqual(Array(5).fill(429));
    expect((await requestToken(s, agent)).status).toBe(200);
  });
});
