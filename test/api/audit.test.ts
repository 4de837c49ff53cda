/** The audit log: one event per change in the same transaction, filters, append-only, tamper-evident chain. */
import { startTestServer, TestServer } from '../support/server';
import { client, Client, expectError } from '../support/http';

let s: TestServer;
let api: Client;
beforeAll(async () => {
  s = await startTestServer();
  api = client(s.url, s.apiKey);
});
afterAll(async () => s?.close());

const events = async (q = '') => (await api.get(`/v1/audit-events?limit=500${q}`)).body.data as Array<Record<string, any>>;

test('every change writes one event with actor, target, reason, request id and client address — never a secret', async () => {
  const created = await api.post('/v1/agents', { name: 'audited', scopes: ['a:read'] }).set('X-Request-Id', 'req-create-1');
  const id = created.body.id;
  await api.patch(`/v1/agents/${id}`, { scopes: ['a:read', 'a:write'] });
  await api.post(`/v1/agents/${id}/suspend`, { reason: 'incident 42' });
  await api.post(`/v1/agents/${id}/activate`);
  const key = await api.post(`/v1/agents/${id}/keys`);
  await api.delete(`/v1/agents/${id}/keys/${key.body.kid}`);
  await api.post(`/v1/agents/${id}/revoke`, { reason: 'done' });
  await api.post(`/v1/agents/${id}/revoke`); // no-op: no event
  expect((await api.post(`/v1/agents/${id}/suspend`)).status).toBe(409); // refused: no event

  const mine = await events(`&agent_id=${id}`);
  expect(mine.map((e) => e.action)).toEqual([
    'agent.created', 'agent.updated', 'agent.suspended', 'agent.activated', 'agent_key.created', 'agent_key.revoked', 'agent.revoked',
  ]);
  const apiKeyId = (await api.get('/v1/api-keys')).body.data[0].id;
  for (const e of mine) {
    expect(e).toMatchObject({ actor_type: 'api_key', actor_id: apiKeyId, target_type: 'agent', target_id: id, outcome: 'success' });
    expect(e.client_ip).toBeTruthy();
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
  }
  expect(mine[0]!.request_id).toBe('req-create-1');
  expect(mine[2]!.reason).toBe('incident 42');
  const all = JSON.stringify(await events());
  expect(all).not.toContain(created.body.secret.slice(-43));
  expect(all).not.toContain(key.body.secret.slice(-43));
  expect(all).not.toContain(s.apiKey);
});

test('a failed change writes no event', async () => {
  const before = (await events()).length;
  await api.post('/v1/agents', { name: '' });
  await api.post('/v1/agents', { name: 'x', scopes: ['BAD'] });
  expect((await events()).length).toBe(before);
});

test('filters and keyset pagination', async () => {
  const t0 = new Date().toISOString();
  const a = (await api.post('/v1/agents', { name: 'filter-me' })).body.id;
  await api.post(`/v1/agents/${a}/suspend`);
  const t1 = new Date(Date.now() + 1000).toISOString();
  expect((await events(`&action=agent.suspended&agent_id=${a}`)).map((e) => e.action)).toEqual(['agent.suspended']);
  expect((await events(`&since=${encodeURIComponent(t0)}`)).every((e) => e.created_at >= t0)).toBe(true);
  expect(await events(`&since=${encodeURIComponent(t1)}`)).toEqual([]);
  expect((await events(`&until=${encodeURIComponent(t0)}`)).every((e) => e.created_at < t0)).toBe(true);

  const all = await events();
  const paged: number[] = [];
  let cursor: string | null = null;
  do {
    const res: any = await api.get(`/v1/audit-events?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    paged.push(...res.body.data.map((e: { seq: number }) => e.seq));
    cursor = res.body.next_cursor;
  } while (cursor);
  expect(paged).toEqual(all.map((e) => e.seq));
  expect(paged).toEqual([...paged].sort((x, y) => x - y));
  expectError(await api.get('/v1/audit-events?cursor=zzz'), 400, 'validation_error');
  expectError(await api.get('/v1/audit-events?since=soon'), 400, 'validation_error');
});

test('concurrent changes in one organization append one linear chain', async () => {
  const creates = await Promise.all(Array.from({ length: 12 }, (_, i) => api.post('/v1/agents', { name: `concurrent-${i}` }).set('Idempotency-Key', `concurrent-${i}`)));
  expect(creates.map((r) => r.status)).toEqual(Array(12).fill(201));
  await Promise.all(creates.map((r) => api.post(`/v1/agents/${r.body.id}/suspend`)));
  expect((await api.get('/v1/audit-events/verify')).body).toMatchObject({ valid: true, first_broken_seq: null });
});

describe('integrity', () => {
  const knex = () => s.running.db.knex;
  // Simulates an attacker with direct database access who disables the append-only trigger.
  async function tamper(sql: string, bindings: unknown[]) {
    await knex().transaction(async (tx) => {
      await tx.raw('alter table audit_events disable trigger audit_events_no_update');
      await tx.raw(sql, bindings as never);
      await tx.raw('alter table audit_events enable trigger audit_events_no_update');
    });
  }

  test('the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    await expect(knex()('audit_events').update({ reason: 'x' })).rejects.toThrow(/append-only/);
    await expect(knex()('audit_events').del()).rejects.toThrow(/append-only/);
    await expect(knex().raw('truncate audit_events')).rejects.toThrow(/append-only/);
  });

  test('verify passes on an intact chain and detects an edited, a reordered and a deleted event', async () => {
    const before = (await api.get('/v1/audit-events/verify')).body;
    for (let i = 0; i < 3; i++) await api.post('/v1/agents', { name: `chain-${i}` });
    const ok = (await api.get('/v1/audit-events/verify')).body;
    // Incremental: the run resumed where the previous one ended and recomputed only the new events.
    expect(ok).toMatchObject({ valid: true, first_broken_seq: null, from_seq: before.seq, events_checked: 3, seq: before.seq + 3 });
    const whole = (await api.get('/v1/audit-events/verify?full=true')).body;
    expect(whole).toMatchObject({ valid: true, from_seq: 0, events_checked: ok.seq, seq: ok.seq });
    // An edit that leaves the stored hashes in place is found by the full re-walk (an edit that recomputes them, by every run).
    const verify = () => api.get('/v1/audit-events/verify?full=true');

    const org = s.organizationId;
    const target = (await knex()('audit_events').where({ organization_id: org }).orderBy('seq').offset(2).first())!;
    const original = target.reason;
    await tamper('update audit_events set reason = ? where id = ?', ['forged', target.id]);
    let v = (await verify()).body;
    expect(v).toMatchObject({ valid: false, first_broken_seq: Number(target.seq) });
    expect(v.reason).toMatch(/altered/);
    await tamper('update audit_events set reason = ? where id = ?', [original, target.id]);
    expect((await verify()).body.valid).toBe(true);

    // Reorder: swap the sequence numbers of two events.
    const [e1, e2] = await knex()('audit_events').where({ organization_id: org }).orderBy('seq').offset(3).limit(2);
    await tamper('update audit_events set seq = -1 where id = ?', [e1.id]);
    await tamper('update audit_events set seq = ? where id = ?', [e1.seq, e2.id]);
    await tamper('update audit_events set seq = ? where id = ?', [e2.seq, e1.id]);
    v = (await verify()).body;
    expect(v).toMatchObject({ valid: false, first_broken_seq: Number(e1.seq) });
    await tamper('update audit_events set seq = -1 where id = ?', [e1.id]);
    await tamper('update audit_events set seq = ? where id = ?', [e2.seq, e2.id]);
    await tamper('update audit_events set seq = ? where id = ?', [e1.seq, e1.id]);
    expect((await verify()).body.valid).toBe(true);

    // Delete the newest event: the chain head still records it.
    const last = await knex()('audit_events').where({ organization_id: org }).orderBy('seq', 'desc').first();
    await tamper('delete from audit_events where id = ?', [last.id]);
    v = (await verify()).body;
    expect(v).toMatchObject({ valid: false, first_broken_seq: Number(last.seq) });
    expect((await api.get('/v1/audit-events/verify')).body).toMatchObject({ valid: false, first_broken_seq: Number(last.seq) });
    // Delete one in the middle.
    const mid = await knex()('audit_events').where({ organization_id: org }).orderBy('seq').offset(1).first();
    await tamper('delete from audit_events where id = ?', [mid.id]);
    v = (await verify()).body;
    expect(v).toMatchObject({ valid: false, first_broken_seq: Number(mid.seq) });
  });
});
