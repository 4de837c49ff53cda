/**
 * Delegation (RFC 8693 token exchange): `may_act` on agents, the exchange at the token endpoint,
 * the nested `act` of chains, the depth cap, and revocation that cascades at once — the subject
 * token, the subject agent, any actor, a removed grant — also on a second replica (PostgreSQL).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { testBackend } from '../support/databases';
import { untilLockWaiters } from '../support/pg-locks';
import { admin, ASSERTION_TYPE, assertion, createAgent, decodePayload, getToken, introspect, nextInvalidation, TestAgent, tokenRequest } from './helpers';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ env: { CERTUSORDO_DELEGATION_MAX_DEPTH: '2' } });
});
afterAll(async () => s?.close());

async function exchange(server: TestServer, actor: TestAgent, subjectToken: string, extra: Record<string, string> = {}) {
  return tokenRequest(server, {
    grant_type: EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN,
    client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(server, actor), ...extra,
  });
}

async function exchanged(server: TestServer, actor: TestAgent, subjectToken: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await exchange(server, actor, subjectToken, extra);
  if (res.status !== 200) throw new Error(`exchange: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

function expectRefused(res: request.Response, error: string) {
  expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error });
  expect(typeof res.body.error_description).toBe('string');
}

const agentView = async (id: string, server = s) => (await admin(server).get(`/v1/agents/${id}`).expect(200)).body;
const grant = (subject: TestAgent, actor: TestAgent, server = s) => admin(server).patch(`/v1/agents/${subject.id}`, { may_act: [actor.id] }).expect(200);

describe('may_act on an agent', () => {
  test('empty by default, set on create, replaced by PATCH, listed in the view, audited', async () => {
    const b = await createAgent(s);
    const c = await createAgent(s);
    const a = await createAgent(s);
    expect((await agentView(a.id)).may_act).toEqual([]);

    const created = await admin(s).post('/v1/agents', { name: `d-${randomUUID().slice(0, 8)}`, may_act: [c.id, b.id, b.id.toUpperCase()] }).expect(201);
    expect(created.body.may_act).toEqual([b.id, c.id].sort());
    expect((await agentView(created.body.id)).may_act).toEqual([b.id, c.id].sort());
    const listed = (await admin(s).get(`/v1/agents?id=${created.body.id}`)).body.data[0];
    expect(listed.may_act).toEqual([b.id, c.id].sort());

    const patched = await admin(s).patch(`/v1/agents/${created.body.id}`, { may_act: [c.id] }).expect(200);
    expect(patched.body.may_act).toEqual([c.id]);
    const events = (await admin(s).get(`/v1/audit-events?agent_id=${created.body.id}&action=agent.updated`)).body.data;
    expect(events[0].data).toMatchObject({ changed: ['may_act'], may_act: [c.id], may_act_added: [], may_act_removed: [b.id] });
    const createdEvent = (await admin(s).get(`/v1/audit-events?agent_id=${created.body.id}&action=agent.created`)).body.data[0];
    expect(createdEvent.data.may_act).toEqual([b.id, c.id].sort());
  });

  test('unknown, revoked, self and other organizations\' ids are refused with 400 and change nothing', async () => {
    const a = await createAgent(s);
    const revoked = await createAgent(s);
    await admin(s).post(`/v1/agents/${revoked.id}/revoke`).expect(200);
    const other = await s.createOrganization();
    const foreign = await createAgent(s, {}, other.apiKey);
    for (const id of [randomUUID(), revoked.id, a.id, foreign.id]) {
      const res = await admin(s).patch(`/v1/agents/${a.id}`, { may_act: [id], name: 'never-applied' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.details[0].path).toBe('may_act');
      // Another organization's agent is answered like an unknown one.
      if (id === foreign.id) expect(res.body.error.details[0].message).toBe(`${foreign.id}: no agent with this id in the organization`);
    }
    const name = `e-${randomUUID().slice(0, 8)}`;
    expect((await admin(s).post('/v1/agents', { name, may_act: [foreign.id] })).status).toBe(400);
    expect((await admin(s).get(`/v1/agents?name=${name}`)).body.data).toEqual([]);
    expect(await agentView(a.id)).toMatchObject({ may_act: [], name: expect.not.stringMatching('never-applied') });
    expect((await admin(s).patch(`/v1/agents/${a.id}`, { may_act: ['not-a-uuid'] })).status).toBe(400);
  });

  test('naming another organization\'s agent takes no lock on its row: the refusal comes while that organization holds it (PostgreSQL)', async () => {
    if (testBackend() !== 'postgres') return;
    const a = await createAgent(s);
    const other = await s.createOrganization();
    const foreign = await createAgent(s, {}, other.apiKey);
    const db = s.running.db.knex;
    const holder = await db.transaction();
    try {
      await holder.raw('select 1 from agents where id = ? for update', [foreign.id]);
      const holderPid = (await holder.raw('select pg_backend_pid() as pid')).rows[0].pid as number;
      const answered = Promise.all([
        admin(s).patch(`/v1/agents/${a.id}`, { may_act: [foreign.id] }),
        request(s.url).put(`/v1/agents/${a.id}/delegations/${foreign.id}`).set('Authorization', `Bearer ${s.apiKey}`).then((r) => r),
      ]).then((r) => r.map((x) => x.status));
      // Either every request answers while the row stays locked, or one of them queues behind it
      // (the two requests may queue behind each other on agent a: that is not this holder's lock).
      const first = await Promise.race([answered, untilLockWaiters(db, (n) => n >= 1, { blockedBy: holderPid }).then(() => 'waited for the row' as const)]);
      expect(first).toEqual([400, 400]);
    } finally {
      await holder.rollback();
    }
  });

  test('one grant at a time: PUT adds, GET reads, DELETE removes (404 when absent), each audited', async () => {
    const a = await createAgent(s);
    const b = await createAgent(s);
    const path = `/v1/agents/${a.id}/delegations/${b.id}`;
    await admin(s).get(path).expect(404);
    const put = await request(s.url).put(path).set('Authorization', `Bearer ${s.apiKey}`).expect(200);
    expect(put.body).toEqual({ subject_agent_id: a.id, actor_agent_id: b.id, created_at: expect.any(String) });
    const again = await request(s.url).put(path).set('Authorization', `Bearer ${s.apiKey}`).expect(200);
    expect(again.body).toEqual(put.body);
    expect((await admin(s).get(path).expect(200)).body).toEqual(put.body);
    expect((await agentView(a.id)).may_act).toEqual([b.id]);
    // A↔B: the reverse grant is a separate row, no cycle to resolve.
    await request(s.url).put(`/v1/agents/${b.id}/delegations/${a.id}`).set('Authorization', `Bearer ${s.apiKey}`).expect(200);
    expect((await admin(s).del(path).expect(200)).body).toEqual(put.body);
    await admin(s).del(path).expect(404);
    expect((await agentView(a.id)).may_act).toEqual([]);
    const actions = (await admin(s).get(`/v1/audit-events?agent_id=${a.id}`)).body.data.map((e: { action: string }) => e.action);
    expect(actions.filter((x: string) => x.startsWith('agent.delegation_'))).toEqual(['agent.delegation_granted', 'agent.delegation_removed']);

    const reader = await s.createApiKey('reader');
    expect((await request(s.url).put(path).set('Authorization', `Bearer ${reader}`)).status).toBe(403);
    const other = await s.createOrganization();
    expect((await request(s.url).put(path).set('Authorization', `Bearer ${other.apiKey}`)).status).toBe(404);
    expect((await request(s.url).put(`/v1/agents/${a.id}/delegations/${randomUUID()}`).set('Authorization', `Bearer ${s.apiKey}`)).status).toBe(400);
  });
});

test('concurrent grants A→B and B→A, with PATCHes naming both, all complete (the rows are locked in one order)', async () => {
  const a = await createAgent(s);
  const b = await createAgent(s);
  const put = (x: TestAgent, y: TestAgent) => request(s.url).put(`/v1/agents/${x.id}/delegations/${y.id}`).set('Authorization', `Bearer ${s.apiKey}`);
  const results = await Promise.all([
    ...Array.from({ length: 4 }, () => [put(a, b), put(b, a), admin(s).patch(`/v1/agents/${a.id}`, { may_act: [b.id] }), admin(s).patch(`/v1/agents/${b.id}`, { may_act: [a.id] })]).flat(),
  ]);
  expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
  expect((await agentView(a.id)).may_act).toEqual([b.id]);
  expect((await agentView(b.id)).may_act).toEqual([a.id]);
});

describe('token exchange', () => {
  test('B exchanges A\'s token: sub = A, act.sub = B, scope within both, aud = resource, exp within the subject token\'s', async () => {
    const a = await createAgent(s, { scopes: ['payments:*', 'reports:read'] });
    const b = await createAgent(s, { scopes: ['payments:read', 'orders:write'] });
    await grant(a, b);
    const subjectToken = await getToken(s, a);
    const res = await exchange(s, b, subjectToken, { resource: 'https://payments.example/api' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: expect.any(Number), scope: 'payments:read', issued_token_type: ACCESS_TOKEN });
    const p = decodePayload(res.body.access_token);
    const subject = decodePayload(subjectToken);
    expect(p).toMatchObject({ sub: a.id, act: { sub: b.id }, client_id: b.id, scope: 'payments:read', aud: 'https://payments.example/api', parent_jtis: [subject.jti] });
    expect(p.exp as number).toBeLessThanOrEqual(subject.exp as number);

    const i = await introspect(s.url, s.apiKey, res.body.access_token);
    expect(i).toMatchObject({ active: true, sub: a.id, act: { sub: b.id }, client_id: b.id });
    expect(i).not.toHaveProperty('parent_jtis');

    // The actor's assertion was consumed and its last_auth_at stamped.
    expect((await agentView(b.id)).last_auth_at).not.toBeNull();
    // A narrower request is honoured; one beyond the subject token or the actor is refused.
    expect((await exchange(s, b, subjectToken, { scope: 'payments:read' })).status).toBe(200);
    expectRefused(await exchange(s, b, subjectToken, { scope: 'orders:write' }), 'invalid_scope');
    expectRefused(await exchange(s, b, subjectToken, { scope: 'reports:read' }), 'invalid_scope');
    expectRefused(await exchange(s, b, subjectToken, { resource: 'not a uri' }), 'invalid_target');
  });

  test('the audit log records the exchange with its chain', async () => {
    const a = await createAgent(s);
    const b = await createAgent(s);
    await grant(a, b);
    const subjectToken = await getToken(s, a);
    const token = await exchanged(s, b, subjectToken);
    const e = (await admin(s).get(`/v1/audit-events?agent_id=${a.id}&action=token.exchanged`)).body.data[0];
    expect(e).toMatchObject({ actor_type: 'agent', actor_id: b.id, target_id: a.id, outcome: 'success' });
    expect(e.data).toMatchObject({ token_jti: decodePayload(token).jti, subject_token_jti: decodePayload(subjectToken).jti, actors: [b.id], act: { sub: b.id } });
    expect(JSON.stringify(e)).not.toContain(subjectToken);
  });

  test('an actor not in may_act is refused; so are session, revoked and other organizations\' subject tokens', async () => {
    const a = await createAgent(s);
    const b = await createAgent(s);
    const c = await createAgent(s);
    await grant(a, b);
    const subjectToken = await getToken(s, a);
    expectRefused(await exchange(s, c, subjectToken), 'invalid_grant');

    const session = (await request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${subjectToken}`).send({ scopes: ['payments:read'] }).expect(201)).body;
    expectRefused(await exchange(s, b, session.access_token), 'invalid_grant');

    const revoked = await getToken(s, a);
    await request(s.url).post('/v1/oauth/revoke').type('form').send({ token: revoked }).expect(200);
    expectRefused(await exchange(s, b, revoked), 'invalid_grant');
    expectRefused(await exchange(s, b, 'not-a-token'), 'invalid_grant');
    expectRefused(await exchange(s, b, subjectToken, { subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }), 'invalid_grant');

    const other = await s.createOrganization();
    const foreign = await createAgent(s, {}, other.apiKey);
    await request(s.url).put(`/v1/agents/${foreign.id}/delegations/${b.id}`).set('Authorization', `Bearer ${other.apiKey}`).expect(400);
    expectRefused(await exchange(s, b, await getToken(s, foreign)), 'invalid_grant');
  });

  test('a chain A←B←C nests act; the next actor must be in the last actor\'s may_act; depth over the cap is refused', async () => {
    const a = await createAgent(s);
    const b = await createAgent(s);
    const c = await createAgent(s);
    const d = await createAgent(s);
    await grant(a, b);
    const ab = await exchanged(s, b, await getToken(s, a), { scope: 'payments:read reports:read' });
    // A's may_act does not decide the second hop: B's does.
    await admin(s).patch(`/v1/agents/${a.id}`, { may_act: [b.id, c.id] }).expect(200);
    expectRefused(await exchange(s, c, ab), 'invalid_grant');
    await grant(b, c);
    // Nothing in the chain widens the scope: C gets at most what B's token holds.
    expectRefused(await exchange(s, c, ab, { scope: 'payments:write' }), 'invalid_scope');
    const abc = await exchanged(s, c, ab);
    const p = decodePayload(abc);
    expect(p).toMatchObject({ sub: a.id, act: { sub: c.id, act: { sub: b.id } }, client_id: c.id, scope: 'payments:read reports:read' });
    expect(p.parent_jtis).toEqual([...(decodePayload(ab).parent_jtis as string[]), decodePayload(ab).jti]);
    expect(await introspect(s.url, s.apiKey, abc)).toMatchObject({ active: true, act: { sub: c.id, act: { sub: b.id } } });
    // CERTUSORDO_DELEGATION_MAX_DEPTH=2 here: a third actor is one too many.
    await grant(c, d);
    const deeper = await exchange(s, d, abc);
    expectRefused(deeper, 'invalid_grant');
    expect(deeper.body.error_description).toMatch(/at most 2/);
  });
});

describe('revocation cascades', () => {
  async function chain() {
    const a = await createAgent(s);
    const b = await createAgent(s);
    const c = await createAgent(s);
    await grant(a, b);
    await grant(b, c);
    const original = await getToken(s, a);
    const ab = await exchanged(s, b, original);
    const abc = await exchanged(s, c, ab);
    for (const t of [original, ab, abc]) expect((await introspect(s.url, s.apiKey, t)).active).toBe(true);
    return { a, b, c, original, ab, abc };
  }
  const inactive = async (...tokens: string[]) => {
    for (const t of tokens) expect(await introspect(s.url, s.apiKey, t)).toEqual({ active: false });
  };

  test('revoking A\'s original token ends every token derived from it', async () => {
    const { original, ab, abc } = await chain();
    await request(s.url).post('/v1/oauth/revoke').type('form').send({ token: original }).expect(200);
    await inactive(original, ab, abc);
  });

  test('suspending the middle actor B ends B\'s and C\'s tokens, and they stay dead after reactivation', async () => {
    const { a, b, original, ab, abc } = await chain();
    await admin(s).post(`/v1/agents/${b.id}/suspend`).expect(200);
    await inactive(ab, abc);
    expect((await introspect(s.url, s.apiKey, original)).active).toBe(true);
    await admin(s).post(`/v1/agents/${b.id}/activate`).expect(200);
    await inactive(ab, abc);
    void a;
  });

  test('suspending the subject A ends every delegated token for it', async () => {
    const { a, ab, abc } = await chain();
    await admin(s).post(`/v1/agents/${a.id}/suspend`).expect(200);
    await inactive(ab, abc);
  });

  test('removing an actor from may_act ends its tokens for the subject, and granting again does not revive them', async () => {
    const { a, b, ab, abc } = await chain();
    await admin(s).del(`/v1/agents/${a.id}/delegations/${b.id}`).expect(200);
    await inactive(ab, abc);
    await grant(a, b);
    await inactive(ab, abc);
  });

  test('revoking the current actor C ends its token only; B\'s stays', async () => {
    const { c, original, ab, abc } = await chain();
    await admin(s).post(`/v1/agents/${c.id}/revoke`).expect(200);
    await inactive(abc);
    for (const t of [original, ab]) expect((await introspect(s.url, s.apiKey, t)).active).toBe(true);
  });

  test('revoking a derived token leaves its ancestors alive', async () => {
    const { original, ab, abc } = await chain();
    await request(s.url).post('/v1/oauth/revoke').type('form').send({ token: ab }).expect(200);
    await inactive(ab, abc);
    expect((await introspect(s.url, s.apiKey, original)).active).toBe(true);
  });
});

describe('a delegated token at the control plane', () => {
  test('opens no session, sees no session, and revokes only itself and the tokens derived from it', async () => {
    const a = await createAgent(s);
    const b = await createAgent(s);
    const c = await createAgent(s);
    await grant(a, b);
    await grant(b, c);
    const original = await getToken(s, a);
    const sibling = await getToken(s, a);
    const ab = await exchanged(s, b, original);
    const abc = await exchanged(s, c, ab);
    const res = await request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${ab}`).send({ scopes: ['payments:read'] });
    expect(res.status).toBe(403);
    expect(res.body.error.details).toEqual([{ path: 'authorization', message: 'delegated_token' }]);
    expect((await request(s.url).get('/v1/sessions').set('Authorization', `Bearer ${ab}`)).status).toBe(403);

    // Not the subject's other tokens, not its ancestors.
    for (const t of [sibling, original]) await request(s.url).post('/v1/oauth/revoke').set('Authorization', `Bearer ${ab}`).type('form').send({ token: t }).expect(200);
    for (const t of [sibling, original, ab, abc]) expect((await introspect(s.url, s.apiKey, t)).active).toBe(true);
    // A token derived from it, then itself.
    await request(s.url).post('/v1/oauth/revoke').set('Authorization', `Bearer ${ab}`).type('form').send({ token: abc }).expect(200);
    expect((await introspect(s.url, s.apiKey, abc)).active).toBe(false);
    await request(s.url).post('/v1/oauth/revoke').set('Authorization', `Bearer ${ab}`).type('form').send({ token: ab }).expect(200);
    expect((await introspect(s.url, s.apiKey, ab)).active).toBe(false);
    expect((await introspect(s.url, s.apiKey, original)).active).toBe(true);
    const revoked = (await admin(s).get(`/v1/audit-events?agent_id=${a.id}&action=token.revoked`)).body.data;
    expect(revoked.map((e: { actor_id: string }) => e.actor_id)).toEqual([b.id, b.id]);
  });
});

test('a delegated token spends its actor\'s request budget, not its subject\'s', async () => {
  const limited = await startTestServer({ env: { CERTUSORDO_RATE_LIMIT: '1' } }); // burst of 2, then 1/s
  try {
    // Each admin call with its own key: API keys have budgets of their own.
    const a = await createAgent(limited, {}, await limited.createApiKey('admin'));
    const b = await createAgent(limited, {}, await limited.createApiKey('admin'));
    await admin(limited, await limited.createApiKey('admin')).patch(`/v1/agents/${a.id}`, { may_act: [b.id] }).expect(200);
    const [ownA, ownB] = [await getToken(limited, a), await getToken(limited, b)];
    const delegated = await exchanged(limited, b, ownA);
    const revokeWith = (bearer: string) => request(limited.url).post('/v1/oauth/revoke').set('Authorization', `Bearer ${bearer}`).type('form').send({ token: 'not-a-token' });
    expect((await Promise.all([revokeWith(delegated), revokeWith(delegated)])).map((r) => r.status)).toEqual([200, 200]);
    expect((await revokeWith(ownB)).status).toBe(429);
    expect((await revokeWith(ownA)).status).toBe(200);
  } finally {
    await limited.close();
  }
});

const describePg = testBackend() === 'postgres' ? describe : describe.skip;

describePg('on a second replica', () => {
  let r1: TestServer;
  let r2: TestServer;
  beforeAll(async () => {
    const masterKey = randomBytes(32).toString('base64url');
    r1 = await startTestServer({ masterKey });
    r2 = await startTestServer({ store: r1.store, masterKey, env: { CERTUSORDO_PUBLIC_URL: r1.url } });
  });
  afterAll(async () => {
    await r2?.close();
    await r1?.close();
  });

  test('revoking the original token, suspending B or removing the grant on one replica ends derived tokens on the other at once', async () => {
    const setup = async () => {
      const a = await createAgent(r1);
      const b = await createAgent(r1);
      const heard = nextInvalidation(r2, 'r2 hears of the grant', (e) => e.kind === 'delegation' && e.subjectId === a.id && e.actorId === b.id);
      await grant(a, b, r1);
      await heard;
      const original = await getToken(r1, a);
      // Exchanged on r2: its caches now hold the chain as valid.
      const ab = await exchanged(r2, b, original);
      expect((await introspect(r2.url, r1.apiKey, ab)).active).toBe(true);
      return { a, b, original, ab };
    };

    let t = await setup();
    let heard = nextInvalidation(r2, 'r2 hears the revocation', (e) => e.kind === 'token' && e.jti === decodePayload(t.original).jti);
    await request(r1.url).post('/v1/oauth/revoke').type('form').send({ token: t.original }).expect(200);
    await heard;
    expect(await introspect(r2.url, r1.apiKey, t.ab)).toEqual({ active: false });

    t = await setup();
    heard = nextInvalidation(r2, 'r2 hears of the suspension', (e) => e.kind === 'agent' && e.id === t.b.id);
    await admin(r1, r1.apiKey).post(`/v1/agents/${t.b.id}/suspend`).expect(200);
    await heard;
    expect(await introspect(r2.url, r1.apiKey, t.ab)).toEqual({ active: false });

    t = await setup();
    heard = nextInvalidation(r2, 'r2 hears the grant removed', (e) => e.kind === 'delegation' && e.subjectId === t.a.id && e.actorId === t.b.id);
    await admin(r1, r1.apiKey).del(`/v1/agents/${t.a.id}/delegations/${t.b.id}`).expect(200);
    await heard;
    expect(await introspect(r2.url, r1.apiKey, t.ab)).toEqual({ active: false });
    expectRefused(await exchange(r2, t.b, t.original), 'invalid_grant');
  });
});
