/**
 * Flat lists at scale: every documented list filter of agents, sessions and audit events, timed
 * through HTTP against a real server, in an organization of 1,000 agents and one of 1,000,000 with
 * the same mix (statuses, authentication recency, names, sessions and audit events per agent).
 * Prints `filter | small org ms | large org ms | ratio` (median of 7 sequential requests each, after
 * two warm-up requests).
 *
 * test/ops/list-filters.test.ts loads the same mix (loadMix) at a small scale and checks the plans.
 *
 * Usage: node dist/bench/list-scale.js [--agents 1000000] [--small 1000] [--explain]
 * The data goes into a disposable PostgreSQL (initdb/pg_ctl on PATH), or into BENCH_DATABASE_URL
 * (a superuser connection to an empty database: the bulk load disables triggers and foreign-key
 * checks for its own transaction with session_replication_role).
 * --explain prints EXPLAIN (ANALYZE, BUFFERS) of each query as the server ran it, in the large org.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { loadConfig } from '../api/src/config';
import { createLogger } from '../api/src/logger';
import { startServer, RunningServer } from '../api/src/server';
import { systemContext } from '../api/src/services/organizations';
import { startPostgres } from './support/postgres';

const TEAMS = ['payments', 'search', 'billing', 'support', 'ingest', 'reports', 'auth', 'ml', 'ops', 'web'];
const DAY_MS = 86_400_000;
const RUNS = 7;
const WARMUP = 2;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

export interface Org {
  id: string;
  key: string;
  /** Agents in this organization (i = 1..n). */
  n: number;
  /** The uuid tag that keeps this organization's generated ids apart from the other's. */
  tag: number;
}

/** A UUIDv7-shaped id from a timestamp (SQL), so that id order is creation order as with uuidv7(). */
const uuidSql = (tsExpr: string, tag: string, seqExpr: string) =>
  `(lpad(to_hex((extract(epoch from ${tsExpr}) * 1000)::bigint), 12, '0') || '7' || lpad(to_hex(${tag}), 3, '0') || '8000' || lpad(to_hex(${seqExpr}), 12, '0'))::uuid`;

/**
 * The mix, identical in both organizations (i = 1..n):
 * - agents created evenly over the last 365 days; 0.1 % suspended, 0.01 % revoked, the rest active;
 *   1 % never authenticated, 2 % last authenticated 60+ days ago, the rest within the last 7 days;
 *   names `<team>-<i, 7 digits>` over 10 teams;
 * - one session per agent, created evenly over the last 30 days (the retention window), one hour
 *   long: 70 % ended, 1 % exhausted, the rest `active` in the table (live only when created in the
 *   last hour, expired otherwise);
 * - two audit events per agent, evenly over the last 30 days: `agent.created`, then
 *   `agent.authenticated` (0.1 % `agent.suspended`, 0.1 % `agent.updated`).
 */
export async function loadMix(knex: Knex, org: Org, nowMs: number): Promise<void> {
  const now = `to_timestamp(${nowMs / 1000})`;
  const n = org.n;
  await knex.transaction(async (tx) => {
    // Bulk data only: no notifications for a million inserted keys, no per-row foreign-key checks.
    await tx.raw('set local session_replication_role = replica');
    const agentTs = `(${now} - interval '365 days' + (interval '365 days' * i / ${n}))`;
    await tx.raw(
      `insert into agents (id, organization_id, name, scopes, status, metadata, created_at, updated_at, last_auth_at, first_auth_at, status_changed_at)
       select ${uuidSql('t', String(org.tag), 'i')}, ?, (?::text[])[1 + i % 10] || '-' || lpad(i::text, 7, '0'), '["payments:read"]'::jsonb,
              case when i % 10000 = 1234 then 'revoked' when i % 1000 = 500 then 'suspended' else 'active' end,
              '{"team":"bench"}'::jsonb, t, t, la, la, t
         from generate_series(1, ${n}) i, lateral (select ${agentTs} as t) x,
              lateral (select case when i % 100 = 7 then null
                                   when i % 50 = 3 then ${now} - interval '60 days' - (i % 1000) * interval '1 minute'
                                   else ${now} - (i % 10080) * interval '1 minute' end as la) y`,
      [org.id, TEAMS],
    );
    // Listing data only: the seals are random bytes, so these keys authenticate nobody.
    await tx.raw(
      `insert into agent_keys (agent_id, kid, public_key, seal, created_at, revoked_at)
       select id, md5(id::text), decode(md5(id::text) || md5(name), 'hex'), decode(md5(name) || md5(id::text), 'hex'), created_at, null from agents where organization_id = ?`,
      [org.id],
    );
    const sessionTs = `(${now} - interval '30 days' + (interval '30 days' * i / ${n}))`;
    await tx.raw(
      `insert into sessions (id, organization_id, agent_id, scopes, max_operations, operations_used, status, purpose, created_at, expires_at, ended_at, end_reason)
       select ${uuidSql('t', String(org.tag + 16), 'i')}, ?, a.id, '["payments:read"]'::jsonb,
              case when i % 100 = 77 then 10 end, case when i % 100 = 77 then 10 else 0 end,
              case when i % 10 < 7 then 'ended' when i % 100 = 77 then 'exhausted' else 'active' end,
              null, t, t + interval '1 hour',
              case when i % 10 < 7 then t + interval '10 minutes' end, case when i % 10 < 7 then 'ended_by_agent' end
         from (select id, right(name, 7)::int as i from agents where organization_id = ?) a, lateral (select ${sessionTs} as t) x`,
      [org.id, org.id],
    );
    // Events 1.. of the organization's chain exist already (its creation); the bulk follows them.
    const head = Number((await tx('audit_chain_heads').where({ organization_id: org.id }).first('last_seq'))!.last_seq);
    const total = 2 * n;
    const eventTs = `(${now} - interval '30 days' + (interval '30 days' * s / ${total}))`;
    await tx.raw(
      `update audit_events set created_at = ${now} - interval '31 days' where organization_id = ?`,
      [org.id],
    );
    await tx.raw(
      `insert into audit_events (id, organization_id, seq, action, actor_type, actor_id, target_type, target_id, outcome, reason, request_id, client_ip, data, created_at, prev_hash, hash)
       select ${uuidSql('t', String(org.tag + 32), 's')}, ?, ${head} + s,
              case when k = 0 then 'agent.created' when i % 1000 = 500 then 'agent.suspended' when i % 1000 = 501 then 'agent.updated' else 'agent.authenticated' end,
              'api_key', null, 'agent', a.id::text, 'success', null, null, null, '{}'::jsonb, t, md5(s::text), md5((s + 1)::text)
         from (select id, right(name, 7)::int as i from agents where organization_id = ?) a,
              generate_series(0, 1) k, lateral (select 2 * (i - 1) + k + 1 as s) sq, lateral (select ${eventTs} as t) x`,
      [org.id, org.id],
    );
    await tx('audit_chain_heads').where({ organization_id: org.id }).update({ last_seq: head + total, last_hash: 'bench' });
  });
}

interface Case {
  name: string;
  /** Path and query for an organization. */
  path: (o: Org) => string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');

async function idOf(knex: Knex, table: 'agents' | 'sessions', org: Org, i: number): Promise<string> {
  const col = table === 'agents' ? `right(name, 7)::int` : `(select right(a.name, 7)::int from agents a where a.id = sessions.agent_id)`;
  const r = await knex.raw(`select id from ${table} where organization_id = ? and ${col} = ?`, [org.id, i]);
  return (r.rows[0] as { id: string }).id;
}

/** The list path asking for `limit` rows. */
function withLimit(urlPath: string, limit: number): string {
  return /[?&]limit=\d+/.test(urlPath) ? urlPath.replace(/([?&]limit=)\d+/, `$1${limit}`) : `${urlPath}${urlPath.includes('?') ? '&' : '?'}limit=${limit}`;
}

async function main(): Promise<void> {
  const big = arg('agents', 1_000_000);
  const small = arg('small', 1_000);
  const explain = process.argv.includes('--explain');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-bench-lists-'));
  const pg = process.env.BENCH_DATABASE_URL ? undefined : await startPostgres();
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? pg!.url('postgres');
  const config = loadConfig({ LOG_LEVEL: 'silent', CERTUSORDO_RATE_LIMIT: '1000000' }, {
    PORT: 0, DATABASE_URL: databaseUrl, CERTUSORDO_DATA_DIR: dataDir, CERTUSORDO_MASTER_KEY: randomBytes(32).toString('base64url'),
  });
  let server: RunningServer | undefined;
  try {
    server = await startServer(config, { logger: createLogger('silent'), skipBootstrap: true });
    const knex = server.db.knex;
    const orgs = server.services.organizations;
    const mk = async (name: string, n: number, tag: number): Promise<Org> => {
      const o = await orgs.createOrganization(name);
      const k = await orgs.createApiKey(systemContext(o.id), { name: 'bench', role: 'admin' });
      return { id: o.id, key: k.key, n, tag };
    };
    const smallOrg = await mk('small', small, 1);
    const bigOrg = await mk('large', big, 2);
    const nowMs = Date.now();
    process.stdout.write(`loading ${small.toLocaleString('en')} + ${big.toLocaleString('en')} agents (keys, sessions, audit events) ...\n`);
    const t0 = Date.now();
    await loadMix(knex, smallOrg, nowMs);
    await loadMix(knex, bigOrg, nowMs);
    const t1 = Date.now();
    // What autovacuum does after a bulk load: statistics for the planner, visibility for index-only scans.
    await knex.raw('vacuum analyze agents, agent_keys, sessions, audit_events');
    const t2 = Date.now();
    const size = await knex.raw(`select pg_size_pretty(pg_database_size(current_database())) as s`);
    process.stdout.write(`loaded in ${((t1 - t0) / 1000).toFixed(1)} s, vacuum analyze ${((t2 - t1) / 1000).toFixed(1)} s, database ${(size.rows[0] as { s: string }).s}\n`);

    const iso = (ms: number) => new Date(ms).toISOString();
    const params = new Map<Org, { agentDeep: string; agentMid: string; sessionDeep: string; auditDeepSeq: number; auditUntilLastSeq: number; head: number; name: string }>();
    for (const o of [smallOrg, bigOrg]) {
      const head = Number((await knex('audit_chain_heads').where({ organization_id: o.id }).first('last_seq'))!.last_seq);
      const mid = Math.floor(o.n / 2);
      params.set(o, {
        agentDeep: await idOf(knex, 'agents', o, Math.floor(o.n * 0.9)),
        agentMid: await idOf(knex, 'agents', o, mid),
        sessionDeep: await idOf(knex, 'sessions', o, Math.floor(o.n * 0.9)),
        auditDeepSeq: Math.floor(head * 0.9),
        // The last page of `until` (the first day of 30): the scan must stop where the range ends.
        auditUntilLastSeq: head - 2 * o.n + Math.floor((2 * o.n) / 30) - 5,
        head,
        name: `${TEAMS[mid % 10]}-${String(mid).padStart(7, '0')}`,
      });
    }
    const p = (o: Org) => params.get(o)!;
    const start = nowMs - 30 * DAY_MS;
    const cases: Case[] = [
      { name: 'agents: first page', path: () => '/v1/agents?limit=50' },
      { name: 'agents: page 90 % deep', path: (o) => `/v1/agents?limit=50&cursor=${b64(`a1:${p(o).agentDeep}`)}` },
      { name: 'agents: status=active', path: () => '/v1/agents?status=active' },
      { name: 'agents: status=suspended (0.1 %)', path: () => '/v1/agents?status=suspended' },
      { name: 'agents: status=revoked (0.01 %)', path: () => '/v1/agents?status=revoked' },
      { name: 'agents: name', path: (o) => `/v1/agents?name=${p(o).name}` },
      { name: 'agents: name_prefix (10 agents)', path: () => '/v1/agents?name_prefix=payments-00001' },
      { name: 'agents: name_prefix (10 %)', path: () => '/v1/agents?name_prefix=payments-' },
      { name: 'agents: never_authenticated (1 %)', path: () => '/v1/agents?never_authenticated=true' },
      { name: 'agents: inactive_since 30 d (3 %)', path: () => `/v1/agents?inactive_since=${iso(nowMs - 30 * DAY_MS)}` },
      { name: 'agents: inactive_since 3 d (~55 %)', path: () => `/v1/agents?inactive_since=${iso(nowMs - 3 * DAY_MS)}` },
      { name: 'agents: suspended, page 2', path: () => '/v1/agents?status=suspended&limit=1' },
      { name: 'sessions: first page', path: () => '/v1/sessions?limit=50' },
      { name: 'sessions: page 90 % deep', path: (o) => `/v1/sessions?limit=50&cursor=${b64(`s1:${p(o).sessionDeep}`)}` },
      { name: 'sessions: agent_id', path: (o) => `/v1/sessions?agent_id=${p(o).agentMid}` },
      { name: 'sessions: status=active (live, newest)', path: () => '/v1/sessions?status=active' },
      { name: 'sessions: status=expired', path: () => '/v1/sessions?status=expired' },
      { name: 'sessions: status=exhausted (1 %)', path: () => '/v1/sessions?status=exhausted' },
      { name: 'sessions: status=ended (70 %)', path: () => '/v1/sessions?status=ended' },
      { name: 'audit: first page', path: () => '/v1/audit-events?limit=100' },
      { name: 'audit: page 90 % deep', path: (o) => `/v1/audit-events?cursor=${b64(`e1:${p(o).auditDeepSeq}`)}` },
      { name: 'audit: agent_id', path: (o) => `/v1/audit-events?agent_id=${p(o).agentMid}` },
      { name: 'audit: action (0.05 %)', path: () => '/v1/audit-events?action=agent.suspended' },
      { name: 'audit: action (50 %)', path: () => '/v1/audit-events?action=agent.created' },
      { name: 'audit: since (last day)', path: () => `/v1/audit-events?since=${iso(nowMs - DAY_MS)}` },
      { name: 'audit: until (first day)', path: () => `/v1/audit-events?until=${iso(start + DAY_MS)}` },
      { name: 'audit: until, last page', path: (o) => `/v1/audit-events?until=${iso(start + DAY_MS)}&cursor=${b64(`e1:${p(o).auditUntilLastSeq}`)}` },
      { name: 'audit: order=desc', path: () => '/v1/audit-events?order=desc' },
      { name: 'audit: action (0.05 %), desc', path: () => '/v1/audit-events?action=agent.suspended&order=desc' },
      { name: 'audit: until (first day), desc', path: () => `/v1/audit-events?until=${iso(start + DAY_MS)}&order=desc` },
      { name: 'audit: since+until (one mid day)', path: () => `/v1/audit-events?since=${iso(start + 15 * DAY_MS)}&until=${iso(start + 16 * DAY_MS)}` },
    ];
    // The agents list's `id` filter, where the server has it.
    const probe = await fetch(`${server.url}/v1/agents?id=${p(smallOrg).agentMid}`, { headers: { authorization: `Bearer ${smallOrg.key}` } });
    await probe.text();
    if (probe.status === 200) cases.splice(6, 0, { name: 'agents: id (3 ids)', path: (o) => `/v1/agents?id=${p(o).agentMid}&id=${p(o).agentDeep}&id=${p(o).agentMid.replace(/.$/, '0')}` });
    // The suspended page-2 case: a cursor at the first suspended agent.
    const page2 = cases.find((c) => c.name === 'agents: suspended, page 2')!;
    const firstSuspended = new Map<Org, string>();
    for (const o of [smallOrg, bigOrg]) firstSuspended.set(o, await idOf(knex, 'agents', o, 500));
    page2.path = (o) => `/v1/agents?status=suspended&limit=50&cursor=${b64(`a1:${firstSuspended.get(o)!}`)}`;

    const time = async (o: Org, urlPath: string): Promise<{ ms: number; rows: number }> => {
      const started = process.hrtime.bigint();
      const res = await fetch(server!.url + urlPath, { headers: { authorization: `Bearer ${o.key}` } });
      const body = (await res.json()) as { data?: unknown[] };
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (res.status !== 200) throw new Error(`${urlPath}: ${res.status} ${JSON.stringify(body)}`);
      return { ms, rows: body.data?.length ?? 0 };
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

    process.stdout.write(`\nmedian of ${RUNS} sequential requests after ${WARMUP} warm-ups; node ${process.version}, ${os.cpus().length} cpus\n\n`);
    process.stdout.write(`| filter | ${small.toLocaleString('en')}-agent org ms | ${big.toLocaleString('en')}-agent org ms | ratio | rows (small / large) |\n|---|---|---|---|---|\n`);
    let worst = 0;
    for (const c of cases) {
      const result: number[] = [];
      const rows: number[] = [];
      // Interleaved, so a noisy moment on the shared machine hits both organizations alike.
      const samples = new Map<Org, number[]>([[smallOrg, []], [bigOrg, []]]);
      // Equal pages: where the small organization has fewer matches than a page, both are asked for
      // that many rows, so the ratio compares the same work (serializing 50 agents is not finding them).
      const pages = await Promise.all([smallOrg, bigOrg].map(async (o) => (await time(o, c.path(o))).rows));
      const equal = pages[0]! > 0 && pages[0]! < pages[1]! ? pages[0]! : undefined;
      const pathOf = (o: Org) => (equal === undefined ? c.path(o) : withLimit(c.path(o), equal));
      for (let r = 0; r < WARMUP + RUNS; r++) {
        for (const o of [smallOrg, bigOrg]) {
          const t = await time(o, pathOf(o));
          if (r >= WARMUP) samples.get(o)!.push(t.ms);
          if (r === 0) rows.push(t.rows);
        }
      }
      for (const o of [smallOrg, bigOrg]) result.push(median(samples.get(o)!));
      const ratio = result[1]! / result[0]!;
      worst = Math.max(worst, ratio);
      const unequal = rows[0] !== rows[1] ? ' (unequal pages: the small organization has none)' : '';
      process.stdout.write(`| ${c.name} | ${result[0]!.toFixed(2)} | ${result[1]!.toFixed(2)} | ${ratio.toFixed(2)}× | ${rows[0]} / ${rows[1]}${unequal} |\n`);
    }
    process.stdout.write(`\nworst ratio ${worst.toFixed(2)}× (target ≤ 3×)\n`);

    if (explain) {
      const seen: { sql: string; bindings: readonly unknown[] }[] = [];
      const onQuery = (q: { sql: string; bindings?: readonly unknown[] }) => void seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
      knex.on('query', onQuery);
      for (const c of cases) {
        seen.length = 0;
        await time(bigOrg, c.path(bigOrg));
        const q = seen.find((s) => /from "?(agents|sessions|audit_events)"?( as "?a"?)?\s+where/i.test(s.sql) && !/api_keys/.test(s.sql));
        if (!q) continue;
        // The logged SQL is pg's native form ($1, $2, ...): run it on a raw connection.
        const conn = (await knex.client.acquireConnection()) as { query(text: string, values: unknown[]): Promise<{ rows: { 'QUERY PLAN': string }[] }> };
        try {
          const plan = await conn.query(`explain (analyze, buffers, costs off) ${q.sql}`, [...q.bindings]);
          process.stdout.write(`\n--- ${c.name}\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}\n`);
        } finally {
          await knex.client.releaseConnection(conn);
        }
      }
      knex.off('query', onQuery);
    }
  } finally {
    await server?.close();
    pg?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
