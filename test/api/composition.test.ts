/**
 * One composition root: the process builds one RequestLimiter and one API-key authenticator, and
 * every route's credentials go through them. An API key's budget (CERTUSORDO_RATE_LIMIT) is one
 * budget across /v1/agents and /v1/sessions, and every API-key check of every route is counted by
 * the one authenticator's cache (the `api_key` series of /metrics).
 */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { createAgent, getToken } from '../auth/helpers';

const auth = (key: string) => ({ Authorization: `Bearer ${key}` });

test('requests alternated between /v1/agents and /v1/sessions spend one budget: 429 after the combined burst', async () => {
  const s = await startTestServer({ env: { CERTUSORDO_RATE_LIMIT: '1' } }); // burst of 2, then 1 per second
  try {
    const key = await s.createApiKey('reader');
    const statuses: number[] = [];
    let refused: request.Response | undefined;
    for (const path of ['/v1/agents', '/v1/sessions', '/v1/agents', '/v1/sessions']) {
      const res = await request(s.url).get(path).set(auth(key));
      statuses.push(res.status);
      if (res.status === 429) refused ??= res;
    }
    // The burst of 2 is spent by one request on each route; two budgets would have answered 200 four times.
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses.slice(2)).toContain(429);
    expect(refused!.body.error.code).toBe('rate_limited');
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another key has its own budget, on either route.
    const other = await s.createApiKey('reader');
    expect((await request(s.url).get('/v1/sessions').set(auth(other))).status).toBe(200);
    expect((await request(s.url).get('/v1/agents').set(auth(other))).status).toBe(200);
  } finally {
    await s.close();
  }
});

/** The sum of `certusordo_cache_lookups_total{cache="api_key"}` over its results. */
async function apiKeyLookups(s: TestServer): Promise<number> {
  const text = await (await fetch(s.running.metricsUrl!)).text();
  let sum = 0;
  for (const m of text.matchAll(/^certusordo_cache_lookups_total\{([^}]*)\} (\S+)$/gm)) {
    if (/cache="api_key"/.test(m[1]!)) sum += Number(m[2]);
  }
  return sum;
}

test('every API-key check of every route goes through the one API-key authenticator; agent tokens do not', async () => {
  const s = await startTestServer({ env: { CERTUSORDO_METRICS: 'on' } });
  try {
    const agent = await createAgent(s);
    const token = await getToken(s, agent);
    const before = await apiKeyLookups(s);
    const withKey = [
      request(s.url).get('/v1/agents'),
      request(s.url).get('/v1/api-keys/me'),
      request(s.url).get('/v1/audit-events?limit=1'),
      request(s.url).get('/v1/sessions'),
      request(s.url).get('/v1/signing-keys'),
      request(s.url).post('/v1/oauth/introspect').type('form').send({ token }),
    ];
    for (const r of withKey) expect((await r.set(auth(s.apiKey))).status).toBe(200);
    // An agent token is validated as a token, never looked up as an API key.
    expect((await request(s.url).get('/v1/sessions').set(auth(token))).status).toBe(200);
    expect((await request(s.url).get('/v1/agents').set(auth(token))).status).toBe(403);
    expect(await apiKeyLookups(s)).toBe(before + withKey.length);
  } finally {
    await s.close();
  }
});

test('an agent token on an API-key route is refused as the wrong credential (403), an unknown bearer as no credential (401)', async () => {
  const s = await startTestServer();
  try {
    const token = await getToken(s, await createAgent(s));
    const wrongCredential = await request(s.url).get('/v1/agents').set(auth(token));
    expect({ status: wrongCredential.status, code: wrongCredential.body.error.code }).toEqual({ status: 403, code: 'forbidden' });
    const unknown = await request(s.url).get('/v1/agents').set(auth('not-a-token'));
    expect({ status: unknown.status, code: unknown.body.error.code }).toEqual({ status: 401, code: 'unauthenticated' });
    // An agent-only route refuses an API key, and opening a session refuses a session token.
    const byKey = await request(s.url).post('/v1/sessions').set(auth(s.apiKey)).send({ scopes: ['payments:read'] });
    expect(byKey.status).toBe(403);
    const session = await request(s.url).post('/v1/sessions').set(auth(token)).send({ scopes: ['payments:read'] });
    expect(session.status).toBe(201);
    const nested = await request(s.url).post('/v1/sessions').set(auth(session.body.access_token)).send({ scopes: session.body.scopes });
    expect({ status: nested.status, details: nested.body.error.details }).toEqual({ status: 403, details: [{ path: 'authorization', message: 'session_token' }] });
  } finally {
    await s.close();
  }
});
