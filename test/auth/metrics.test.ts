/**
 * GET /metrics (CERTUSORDO_METRICS=on, or CERTUSORDO_METRICS_PORT): every family an operator
 * needs is present, and no label carries an id, a name, a raw path or a secret. The cardinality
 * test drives requests at many distinct agent ids and unknown paths, then checks that every label
 * value comes from a fixed set (or is one of the application's route templates) and that the
 * number of series does not grow with the number of distinct ids.
 */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { testBackend } from '../support/databases';
import { admin, createAgent, getToken, introspect, tokenRequest } from './helpers';
import { HTTP_METHODS, INTROSPECTION_OUTCOMES, LIMIT_SCOPES, STATUS_CLASSES, TOKEN_OUTCOMES, CACHES, LEASE_RESULTS } from '../../api/src/metrics/metrics';

const postgres = testBackend() === 'postgres';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

describe('metrics on the main port', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { CERTUSORDO_METRICS: 'on' } });
  });
  afterAll(() => s?.close());

  test('every family is present after real traffic', async () => {
    const agent = await createAgent(s);
    const token = await getToken(s, agent);
    expect((await introspect(s.url, s.apiKey, token)).active).toBe(true);
    expect((await introspect(s.url, s.apiKey, token)).active).toBe(true);
    expect((await tokenRequest(s, { grant_type: 'client_credentials' })).status).toBe(400);
    await admin(s).post(`/v1/agents/${agent.id}/suspend`).expect(200);
    await admin(s).get(`/v1/agents/${agent.id}`).expect(200);

    const m = await scrape(`${s.url}/metrics`);
    expect(s.running.metricsUrl).toBe(`${s.url}/metrics`);
    const names = new Set(m.map((x) => x.name));
    for (const family of [
      'certusordo_http_request_duration_seconds_bucket',
      'certusordo_token_requests_total',
      'certusordo_introspections_total',
      'certusordo_rate_limit_refusals_total',
      'certusordo_cache_lookups_total',
      'certusordo_db_pool_connections',
      'certusordo_audit_append_duration_seconds_count',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(names).toContain(family);
    }
    if (postgres) {
      expect(value(m, 'certusordo_listen_connected')).toBe(1);
      expect(names).toContain('certusordo_listen_reconnects_total');
    }
    expect(value(m, 'certusordo_http_request_duration_seconds_count', { method: 'GET', route: '/v1/agents/:id', status_class: '2xx' })).toBe(1);
    expect(value(m, 'certusordo_http_request_duration_seconds_count', { method: 'POST', route: '/v1/oauth/token', status_class: '4xx' })).toBe(1);
    expect(value(m, 'certusordo_token_requests_total', { outcome: 'issued' })).toBe(1);
    expect(value(m, 'certusordo_token_requests_total', { outcome: 'invalid_request' })).toBe(1);
    expect(value(m, 'certusordo_introspections_total', { outcome: 'active' })).toBe(2);
    // create + suspend, at least (the token issue appends too)
    expect(value(m, 'certusordo_audit_append_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    // The second introspection answered the agent's status from memory (PostgreSQL: the cache needs LISTEN).
    expect(value(m, 'certusordo_cache_lookups_total', { cache: 'agent_status' })).toBeGreaterThan(0);
    if (postgres) expect(value(m, 'certusordo_cache_lookups_total', { cache: 'api_key', result: 'hit' })).toBeGreaterThan(0);
    expect(value(m, 'certusordo_db_pool_max')).toBeGreaterThan(0);
  });

  test('bounded labels: many distinct ids and unknown paths add no series', async () => {
    const ids = (n: number, salt: string) => Array.from({ length: n }, (_, i) => `0190${salt}${String(i).padStart(4, '0')}-0000-7000-8000-000000000000`.slice(0, 36));
    const drive = async (n: number, salt: string) => {
      for (const id of ids(n, salt)) {
        await admin(s).get(`/v1/agents/${id}`).expect(404);
        await request(s.url).get(`/no/such/${id}/path`).expect(404);
        await request(s.url).get(`/V1/Agents/${id}`).set('Authorization', `Bearer ${s.apiKey}`);
        await request(s.url).post(`/v1/agents/${id}/suspend`).set('Authorization', 'Bearer aa_not-a-real-key');
      }
    };
    await drive(5, 'aaaa');
    const before = await scrape(`${s.url}/metrics`);
    await drive(40, 'bbbb');
    const after = await scrape(`${s.url}/metrics`);
    const series = (m: Sample[]) => new Set(m.filter((x) => x.name.startsWith('certusordo_')).map((x) => `${x.name}${JSON.stringify(x.labels)}`));
    expect(series(after)).toEqual(series(before));

    const routes = after.filter((x) => x.name === 'certusordo_http_request_duration_seconds_count').map((x) => x.labels.route!);
    expect(routes).toContain('unmatched');
    expect(routes).toContain('/v1/agents/:id');
    expect(routes).toContain('/v1/agents/:id/suspend');
    const allowed: Record<string, ReadonlySet<string>> = {
      method: new Set(HTTP_METHODS),
      status_class: new Set(STATUS_CLASSES),
      outcome: new Set([...TOKEN_OUTCOMES, ...INTROSPECTION_OUTCOMES]),
      scope: new Set(LIMIT_SCOPES),
      cache: new Set(CACHES),
      result: new Set(['hit', 'miss', 'bypass', ...LEASE_RESULTS]),
      state: new Set(['used', 'free', 'pending']),
      kind: new Set(['single', 'batch']),
    };
    for (const x of after.filter((y) => y.name.startsWith('certusordo_'))) {
      for (const [k, v] of Object.entries(x.labels)) {
        if (k === 'le') continue;
        if (k === 'route') {
          // A template: literal segments and :params, never an id or anything upper-case.
          expect(v === 'unmatched' || /^(\/([a-z0-9._-]+|:[a-z_]+))+$/.test(v)).toBe(true);
          expect(v).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}/);
          continue;
        }
        expect([k, allowed[k]?.has(v)]).toEqual([k, true]);
      }
    }
    // No label value anywhere carries a key or a token.
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).not.toContain(s.apiKey);
    expect(text).not.toContain('aa_');
  });

  test('rate-limit refusals are counted by scope', async () => {
    const limited = await startTestServer({ env: { CERTUSORDO_METRICS: 'on', CERTUSORDO_RATE_LIMIT: '1' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await admin(limited).get('/v1/agents')).status);
      expect(statuses.filter((x) => x === 429).length).toBeGreaterThan(0);
      const m = await scrape(`${limited.url}/metrics`);
      expect(value(m, 'certusordo_rate_limit_refusals_total', { scope: 'api_key' })).toBe(statuses.filter((x) => x === 429).length);
    } finally {
      await limited.close();
    }
  });
});

test('off by default; a separate CERTUSORDO_METRICS_PORT serves them there and not on the main port', async () => {
  const plain = await startTestServer();
  try {
    expect(plain.running.metricsUrl).toBeUndefined();
    await request(plain.url).get('/metrics').expect(404);
  } finally {
    await plain.close();
  }
  const separate = await startTestServer({ env: { CERTUSORDO_METRICS_PORT: '0' } });
  try {
    await request(separate.url).get('/metrics').expect(404);
    const url = separate.running.metricsUrl!;
    expect(new URL(url).port).not.toBe(new URL(separate.url).port);
    await admin(separate).get('/v1/agents').expect(200);
    const m = await scrape(url);
    expect(value(m, 'certusordo_http_request_duration_seconds_count', { route: '/v1/agents' })).toBe(1);
    expect((await fetch(url.replace('/metrics', '/v1/agents'))).status).toBe(404);
  } finally {
    await separate.close();
  }
});
