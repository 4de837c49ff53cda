/**
 * Flat lists: every documented list filter reads about as many rows in an organization of 20,000
 * agents as in one of 2,000 with the same mix (the list bench's, bench/list-scale.ts loadMix).
 * Each filter is called through HTTP in both; the SQL the server ran is captured and re-run under
 * EXPLAIN ANALYZE, and the rows its scans touched are counted. Without the list indexes
 * (migration 20261202000100_list_indexes) a rare status, a rare action, the live sessions or a
 * time range make PostgreSQL walk the whole organization: ten times the rows in ten times the
 * organization. Also: `since`/`until` stay exact when events' times are out of seq order by less
 * than the documented slack.
 */
import type { Knex } from 'knex';
import { loadMix } from '../../bench/list-scale';
import { TIME_ORDER_SLACK_MS } from '../../api/src/db/operations/audit';
import { uuidv7 } from '../../api/src/crypto/ids';
import { startTestServer, TestServer } from '../support/server';
import { client } from '../support/http';

const N = 20_000;
const SMALL = 2_000;
const DAY = 86_400_000;
let s: TestServer;
let knex: Knex;

beforeAll(async () => {
  s = await startTestServer({ backend: 'postgres' });
  knex = s.running.db.knex;
});
afterAll(async () => s?.close());

interface PlanNode {
  'Node Type': string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows every scan node of the plan produced or discarded, over all its loops. */
function rowsTouched(n: PlanNode): number {
  const own = /Scan/.test(n['Node Type'])
    ? (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * n['Actual Loops']
    : 0;
  return own + (n.Plans ?? []).reduce((sum, c) => sum + rowsTouched(c), 0);
}

describe('2,000 vs 20,000 agents, same mix', () => {
  const orgs: { small?: { organizationId: string; apiKey: string }; large?: { organizationId: string; apiKey: string } } = {};
  const nowMs = Date.now();
  const ids = { small: {} as Record<string, string>, large: {} as Record<string, string> };

  beforeAll(async () => {
    for (const [size, n, tag] of [['small', SMALL, 3], ['large', N, 4]] as const) {
      const org = await s.createOrganization('admin');
      orgs[size] = org;
      await loadMix(knex, { id: org.organizationId, key: org.apiKey, n, tag }, nowMs);
      const idByName = async (name: string) => (await knex.raw(`select id from agents where organization_id = ? and name = ?`, [org.organizationId, name])).rows[0].id as string;
      ids[size].agent = await idByName(`payments-${String(n / 2).padStart(7, '0')}`);
      ids[size].deepAgent = await idByName(`payments-${String(n * 0.9).padStart(7, '0')}`);
      ids[size].name = `payments-${String(n / 2).padStart(7, '0')}`;
    }
    await knex.raw('analyze agents, agent_keys, sessions, audit_events');
  }, 120_000);

  const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
  const b64 = (v: string) => Buffer.from(v).toString('base64url');
  const start = nowMs - 30 * DAY;
  const cases: [string, (id: Record<string, string>) => string][] = [
    ['agents: first page', () => '/v1/agents'],
    ['agents: a page 90 % deep', (id) => `/v1/agents?cursor=${b64(`a1:${id.deepAgent}`)}`],
    ['agents: status=suspended (0.1 %)', () => '/v1/agents?status=suspended'],
    ['agents: status=revoked (0.01 %)', () => '/v1/agents?status=revoked'],
    ['agents: name', (id) => `/v1/agents?name=${id.name}`],
    ['agents: name_prefix', () => '/v1/agents?name_prefix=payments-00001'],
    ['agents: never_authenticated (1 %)', () => '/v1/agents?never_authenticated=true'],
    ['agents: inactive_since (3 %)', () => `/v1/agents?inactive_since=${iso(nowMs - 30 * DAY)}`],
    ['sessions: first page', () => '/v1/sessions'],
    ['sessions: agent_id', (id) => `/v1/sessions?agent_id=${id.agent}`],
    ['sessions: status=active (the newest few)', () => '/v1/sessions?status=active'],
    // A page of one: the cue that once made PostgreSQL walk every session in id order to find it.
    ['sessions: status=active, limit=1', () => '/v1/sessions?status=active&limit=1'],
    ['sessions: status=expired', () => '/v1/sessions?status=expired'],
    ['sessions: status=exhausted (1 %)', () => '/v1/sessions?status=exhausted'],
    ['sessions: status=ended', () => '/v1/sessions?status=ended'],
    ['audit: first page', () => '/v1/audit-events'],
    ['audit: agent_id', (id) => `/v1/audit-events?agent_id=${id.agent}`],
    ['audit: action (0.05 %)', () => '/v1/audit-events?action=agent.suspended'],
    ['audit: action (0.05 %), newest first', () => '/v1/audit-events?action=agent.suspended&order=desc'],
    ['audit: since (the last day)', () => `/v1/audit-events?since=${iso(nowMs - DAY)}`],
    ['audit: until (the first day), newest first', () => `/v1/audit-events?until=${iso(start + DAY)}&order=desc`],
    ['audit: one day in the middle', () => `/v1/audit-events?since=${iso(start + 15 * DAY)}&until=${iso(start + 16 * DAY)}`],
  ];

  /** Calls `path` as the organization, and counts the rows the list query's plan touched. */
  async function rowsFor(org: { apiKey: string }, path: string): Promise<number> {
    const seen: { sql: string; bindings: readonly unknown[] }[] = [];
    const onQuery = (q: { sql: string; bindings?: readonly unknown[] }) => void seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
    knex.on('query', onQuery);
    let res;
    try {
      res = await client(s.url, org.apiKey).get(path);
    } finally {
      knex.off('query', onQuery);
    }
    expect(res.status).toBe(200);
    const list = seen.filter((q) => /^(with "\w+" as materialized \()?select .* from "(agents|sessions|audit_events)"( as "a")? where/i.test(q.sql));
    expect(list).toHaveLength(1);
    const conn = (await knex.client.acquireConnection()) as { query(t: string, v: unknown[]): Promise<{ rows: { 'QUERY PLAN': { Plan: PlanNode }[] }[] }> };
    try {
      return rowsTouched((await conn.query(`explain (analyze, format json) ${list[0]!.sql}`, [...list[0]!.bindings])).rows[0]!['QUERY PLAN'][0]!.Plan);
    } finally {
      await knex.client.releaseConnection(conn);
    }
  }

  test.each(cases)('%s touches about as many rows at ten times the size', async (_name, path) => {
    const small = await rowsFor(orgs.small!, path(ids.small));
    const large = await rowsFor(orgs.large!, path(ids.large));
    // A walk of the organization would touch 10x the rows; a page (or a selective walk) about the same.
    expect(large).toBeLessThan(3 * Math.max(small, 200));
    expect(large).toBeLessThan(N / 3);
  });
});

test('since and until stay exact when event times are out of seq order within the slack', async () => {
  const org = await s.createOrganization('admin');
  const head = Number((await knex('audit_chain_heads').where({ organization_id: org.organizationId }).first('last_seq')).last_seq);
  const t0 = Date.now() - 10 * DAY;
  // In seq order; the middle times deliberately skewed by half the slack (replicas' clocks), with
  // events a day before and after, so the seq bounds are found among real events.
  const skew = TIME_ORDER_SLACK_MS / 2;
  const times = [t0 - DAY, t0, t0 + 10_000 + skew, t0 + 10_000, t0 + 20_000 - skew, t0 + 20_000, t0 + DAY];
  await knex('audit_events').insert(times.map((t, i) => ({
    id: uuidv7(), organization_id: org.organizationId, seq: head + i + 1, action: 'test.skewed', actor_type: 'system', actor_id: null,
    target_type: null, target_id: null, outcome: 'success', reason: null, request_id: null, client_ip: null, data: '{}',
    created_at: new Date(t), prev_hash: 'x', hash: 'y',
  })));
  await knex('audit_chain_heads').where({ organization_id: org.organizationId }).update({ last_seq: head + times.length });
  const api = client(s.url, org.apiKey);
  const seqsOf = async (q: string) => ((await api.get(`/v1/audit-events?action=test.skewed&${q}`)).body.data as { seq: number }[]).map((e) => e.seq - head);
  const expected = (from: number | null, to: number | null) =>
    times.map((t, i) => [t, i + 1] as const).filter(([t]) => (from === null || t >= from) && (to === null || t < to)).map(([, seq]) => seq);
  for (const [from, to] of [[t0 + 10_000, null], [t0 + 10_001, null], [null, t0 + 20_000], [null, t0 + 10_000 + skew], [t0 + 10_000, t0 + 20_000]] as const) {
    const q = [from !== null ? `since=${new Date(from).toISOString()}` : '', to !== null ? `until=${new Date(to).toISOString()}` : ''].filter(Boolean).join('&');
    expect(await seqsOf(q)).toEqual(expected(from, to));
    expect(await seqsOf(`${q}&order=desc`)).toEqual(expected(from, to).reverse());
  }
});
