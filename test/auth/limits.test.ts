/**
 * The token endpoint's limits: a flood of bad assertions naming an agent neither locks the agent
 * out nor grows its audit log (failure audit events are coalesced, with counts); per-address
 * limits see through trusted proxies only; successful token requests per agent and anonymous
 * revocations per address are bounded; ended sessions are purged after their retention.
 */
import { createPrivateKey, KeyObject, randomUUID, sign } from 'node:crypto';
import http from 'node:http';
import request from 'supertest';
import { loadConfig, parseTrustProxy } from '../../api/src/config';
import { createLogger } from '../../api/src/logger';
import { addressKey, SpentAssertions } from '../../api/src/oauth/token-limits';
import type { AuditContext } from '../../api/src/services/audit';
import { AuthWriter } from '../../api/src/tokens/auth-writer';
import { purgeAuthRows } from '../../api/src/tokens/purge';
import { generateEd25519 } from '../../api/src/crypto/ed25519';
import { startTestServer, TestServer } from '../support/server';
import { admin, ASSERTION_TYPE, createAgent, getToken, requestToken, TestAgent, tokenRequest } from './helpers';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const privateKey = (seed: Buffer): KeyObject => createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });

/** A client assertion signed with node:crypto (the flood needs thousands). */
function signAssertion(s: TestServer, sub: string, key: KeyObject, o: { kid?: string; exp?: number } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'EdDSA', typ: 'JWT', ...(o.kid ? { kid: o.kid } : {}) })}.${b64({ iss: sub, sub, aud: `${s.config.publicUrl ?? s.url}/v1/oauth/token`, jti: randomUUID(), iat: now, exp: o.exp ?? now + 120 })}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

/** Keep-alive HTTP, 16+ sockets: the flood measures the endpoint, not connection set-up. */
const agentPool = new http.Agent({ keepAlive: true, maxSockets: 32 });
afterAll(() => agentPool.destroy());

function post(url: string, path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, {
      method: 'POST', agent: agentPool,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const tokenForm = (a: string) => ({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: a });

/** Every audit event whose target is `targetId`, through the API (all pages). */
async function eventsFor(url: string, apiKey: string, targetId: string): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  let cursor: string | null = null;
  do {
    const res: request.Response = await request(url).get(`/v1/audit-events?agent_id=${targetId}&limit=500${cursor ? `&cursor=${cursor}` : ''}`).set('Authorization', `Bearer ${apiKey}`);
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return out;
}

describe('a flood of bad assertions naming an agent (the issue\'s acceptance test)', () => {
  test('from the agent\'s own address: ≥ 29 of 30 real token requests succeed, ≤ 50 audit events are added, failures are counted', async () => {
    const s = await startTestServer();
    let restarted: TestServer | undefined;
    try {
      const victim = await createAgent(s);
      const own = privateKey(victim.seed);
      const stranger = privateKey(generateEd25519().seed);
      // An assertion the agent used, captured by the attacker (replayed below).
      const captured = signAssertion(s, victim.id, own);
      expect((await post(s.url, '/v1/oauth/token', tokenForm(captured))).status).toBe(200);
      const before = (await eventsFor(s.url, s.apiKey, victim.id)).length;

      // Attributable failures (audited, coalesced) and ones refused before any lookup (not audited).
      const kinds = [
        { reason: 'bad_signature', make: () => signAssertion(s, victim.id, stranger) },
        { reason: 'unknown_key', make: () => signAssertion(s, victim.id, stranger, { kid: `kid-${randomUUID()}` }) },
        { reason: 'bad_signature', make: () => signAssertion(s, victim.id, own).replace(/\.([^.]+)$/, (_m, sig: string) => `.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`) },
        { reason: 'assertion_replayed', make: () => captured },
        { reason: null, make: () => signAssertion(s, victim.id, own, { exp: Math.floor(Date.now() / 1000) - 60 }) },
        { reason: null, make: () => 'not.a.jwt' },
      ];
      const FLOOD = 1500;
      const PARALLEL = 16;
      const flood = Array.from({ length: FLOOD }, (_, i) => kinds[i % kinds.length]!);
      const bodies = flood.map((k) => k.make());

      const t0 = performance.now();
      let sent = 0;
      let agentDone = false;
      const floodStatus = new Map<number, number>();
      const expectedCounts = new Map<string, number>();
      const worker = async () => {
        // Keeps flooding until both the 1,500 are sent and the real agent is done.
        for (;;) {
          const i = sent++;
          if (i >= FLOOD && agentDone) return;
          const k = flood[i % FLOOD]!;
          const res = await post(s.url, '/v1/oauth/token', tokenForm(i < FLOOD ? bodies[i]! : k.make()));
          floodStatus.set(res.status, (floodStatus.get(res.status) ?? 0) + 1);
          if (k.reason) expectedCounts.set(k.reason, (expectedCounts.get(k.reason) ?? 0) + 1);
        }
      };
      const real = async () => {
        while (sent < 100) await new Promise((r) => setImmediate(r)); // the flood is under way
        const statuses: number[] = [];
        for (let i = 0; i < 30; i++) statuses.push((await post(s.url, '/v1/oauth/token', tokenForm(signAssertion(s, victim.id, own)))).status);
        agentDone = true;
        return statuses;
      };
      const [statuses] = await Promise.all([real(), ...Array.from({ length: PARALLEL }, worker)]);
      const floodMs = performance.now() - t0;

      const successes = statuses.filter((x) => x === 200).length;
      const floodTotal = [...floodStatus.values()].reduce((a, b) => a + b, 0);
      expect(successes).toBeGreaterThanOrEqual(29);
      expect(floodTotal).toBeGreaterThanOrEqual(FLOOD);
      expect([...floodStatus.keys()].sort()).toEqual(expect.arrayContaining([401, 429]));
      expect([...floodStatus.keys()].every((x) => x === 401 || x === 429)).toBe(true);

      // Shutdown writes the counts of the windows still open; read the log back on a restart.
      await s.close();
      restarted = await startTestServer({ store: s.store, masterKey: s.config.masterKey });
      const after = await eventsFor(restarted.url, s.apiKey, victim.id);
      const added = after.length - before;
      expect(added).toBeLessThanOrEqual(50);
      const failures = after.filter((e) => e.action === 'agent.authentication_failed');
      const counted = new Map<string, number>();
      for (const e of failures) counted.set(e.reason, (counted.get(e.reason) ?? 0) + (e.data.count as number));
      expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(expectedCounts));
      expect(after.filter((e) => e.action === 'agent.authenticated')).toHaveLength(1 + successes);
      expect((await request(restarted.url).get('/v1/audit-events/verify').set('Authorization', `Bearer ${s.apiKey}`)).body.valid).toBe(true);
      process.stdout.write(
        `[flood ${s.store.backend}] ${floodTotal} bad requests x${PARALLEL} in ${floodMs.toFixed(0)} ms (${JSON.stringify(Object.fromEntries(floodStatus))}); ` +
          `agent ${successes}/30 ok; audit events added ${added} (${failures.length} failure events carrying ${[...counted.values()].reduce((a, b) => a + b, 0)} failures)\n`,
      );
    } finally {
      await (restarted ?? s).close();
    }
  });
});

describe('failure audit coalescing', () => {
  let s: TestServer;
  let victim: TestAgent;
  beforeAll(async () => {
    s = await startTestServer();
    victim = await createAgent(s);
  });
  afterAll(async () => s?.close());

  test('one event per (agent, reason) and window, then one summary with the count; shutdown writes what is open', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const writer = new AuthWriter(s.running.db.knex, s.running.services.audit, createLogger('silent'), { failureWindowMs: 10_000, now: () => now });
    const ctx = (ip: string): AuditContext => ({ organizationId: s.organizationId, actorType: 'agent', actorId: victim.id, requestId: null, clientIp: ip });
    const fail = (reason: string, ip = '192.0.2.1', throttled = false) =>
      writer.recordFailure(ctx(ip), { action: 'agent.authentication_failed', targetType: 'agent', targetId: victim.id, outcome: 'failure', reason, data: { method: 'private_key_jwt', reason } }, throttled);
    const failureEvents = async () => (await eventsFor(s.url, s.apiKey, victim.id)).filter((e) => e.action === 'agent.authentication_failed');

    fail('bad_signature');
    for (let i = 0; i < 6; i++) {
      now += 1000;
      fail('bad_signature', `192.0.2.${i % 3}`, i >= 4);
    }
    fail('unknown_key'); // another reason: its own first event, at once
    await writer.settle();
    let events = await failureEvents();
    expect(events.map((e) => [e.reason, e.data.count])).toEqual([['bad_signature', 1], ['unknown_key', 1]]);

    writer.flushDueFailures(); // the window is not over yet
    await writer.settle();
    expect(await failureEvents()).toHaveLength(2);

    now = Date.parse('2030-01-01T00:00:10Z');
    writer.flushDueFailures();
    await writer.settle();
    events = await failureEvents();
    expect(events).toHaveLength(3);
    expect(events[2]).toMatchObject({
      reason: 'bad_signature', outcome: 'failure', client_ip: '192.0.2.2',
      data: { count: 6, throttled: 2, coalesced: true, first_at: '2030-01-01T00:00:01.000Z', last_at: '2030-01-01T00:00:06.000Z', client_ips: ['192.0.2.0', '192.0.2.1', '192.0.2.2'] },
    });

    // While failures go on, each window is twice as long as the one before.
    now = Date.parse('2030-01-01T00:00:11Z');
    fail('bad_signature');
    now = Date.parse('2030-01-01T00:00:25Z');
    writer.flushDueFailures();
    await writer.settle();
    expect(await failureEvents()).toHaveLength(3);
    now = Date.parse('2030-01-01T00:00:30Z');
    writer.flushDueFailures();
    await writer.settle();
    events = await failureEvents();
    expect(events[3]).toMatchObject({ reason: 'bad_signature', data: { count: 1, window_seconds: 20, coalesced: true } });

    // Shutdown writes what is counted in an open window.
    now += 1000;
    fail('bad_signature');
    await writer.settle();
    expect(await failureEvents()).toHaveLength(4);
    await writer.drain();
    events = await failureEvents();
    expect(events[4]).toMatchObject({ reason: 'bad_signature', data: { count: 1, window_seconds: 40, coalesced: true } });

    // After a quiet window, a failure is written at once again.
    now += 81_000;
    fail('bad_signature');
    await writer.settle();
    expect((await failureEvents()).map((e) => e.data.count)).toEqual([1, 1, 6, 1, 1, 1]);
    await writer.drain();
    expect(await failureEvents()).toHaveLength(6);
    expect((await admin(s).get('/v1/audit-events/verify')).body.valid).toBe(true);
  });

  test('failures found at commit (a replay) go through the same coalescing', async () => {
    const a = await createAgent(s);
    const assertion = signAssertion(s, a.id, privateKey(a.seed));
    expect((await post(s.url, '/v1/oauth/token', tokenForm(assertion))).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const r = await post(s.url, '/v1/oauth/token', tokenForm(assertion));
      expect([r.status, r.body.error]).toEqual([401, 'invalid_client']);
    }
    await s.running.settleAuthAudit();
    expect((await eventsFor(s.url, s.apiKey, a.id)).some((e) => e.reason === 'assertion_replayed')).toBe(true);
    const replays = (await eventsFor(s.url, s.apiKey, a.id)).filter((e) => e.reason === 'assertion_replayed');
    expect(replays.map((e) => e.data.count)).toEqual([1]); // the other two wait for the window's summary
  });
});

describe('trusted proxies (CERTUSORDO_TRUST_PROXY)', () => {
  const someKey = privateKey(generateEd25519().seed);
  // Expired assertions naming random agents: failures of the address only, refused before any lookup.
  const failing = (s: TestServer) => tokenForm(signAssertion(s, randomUUID(), someKey, { exp: Math.floor(Date.now() / 1000) - 60 }));
  const exhaust = async (s: TestServer, forwardedFor: string) => {
    for (let i = 0; i < 200; i++) {
      const r = await post(s.url, '/v1/oauth/token', failing(s), { 'x-forwarded-for': forwardedFor });
      if (r.status === 429) return r;
      expect(r.status).toBe(401);
    }
    throw new Error('never throttled');
  };
  const unknownAgentStatus = async (s: TestServer, forwardedFor: string) => (await post(s.url, '/v1/oauth/token', failing(s), { 'x-forwarded-for': forwardedFor })).status;

  test('set to loopback: X-Forwarded-For from 127.0.0.1 separates clients for the per-address failure budget (and the audit client_ip)', async () => {
    const frozen = Date.now(); // the spent budget must not refill while the test runs, however slow the machine
    const s = await startTestServer({ env: { CERTUSORDO_TRUST_PROXY: 'loopback' }, clock: () => frozen });
    try {
      expect(s.config.trustProxy).toEqual(['loopback']);
      const throttled = await exhaust(s, '203.0.113.7');
      expect(throttled.body.error).toBe('slow_down');
      expect(await unknownAgentStatus(s, '203.0.113.7')).toBe(429);
      expect(await unknownAgentStatus(s, '203.0.113.8')).toBe(401); // another client behind the proxy
      const a = await createAgent(s);
      const ok = await post(s.url, '/v1/oauth/token', tokenForm(signAssertion(s, a.id, privateKey(a.seed))), { 'x-forwarded-for': '198.51.100.4, 203.0.113.9' });
      expect(ok.status).toBe(200);
      const ev = (await eventsFor(s.url, s.apiKey, a.id)).find((e) => e.action === 'agent.authenticated');
      expect(ev!.client_ip).toBe('203.0.113.9'); // the address the trusted proxy saw
    } finally {
      await s.close();
    }
  });

  test('not set (the default): X-Forwarded-For is ignored, every client is 127.0.0.1', async () => {
    const frozen = Date.now();
    const s = await startTestServer({ clock: () => frozen });
    try {
      expect(s.config.trustProxy).toBe(false);
      await exhaust(s, '203.0.113.7');
      expect(await unknownAgentStatus(s, '203.0.113.8')).toBe(429);
      // The budget gates failures only: a valid assertion from the throttled address succeeds.
      const a = await createAgent(s);
      expect((await post(s.url, '/v1/oauth/token', tokenForm(signAssertion(s, a.id, privateKey(a.seed))))).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  test('values: hop counts, addresses, CIDRs, names; anything else (and "true") is a clear configuration error', () => {
    expect(parseTrustProxy(undefined)).toEqual({ ok: true, value: false });
    expect(parseTrustProxy('')).toEqual({ ok: true, value: false });
    expect(parseTrustProxy('2')).toEqual({ ok: true, value: 2 });
    expect(parseTrustProxy('loopback, 10.0.0.0/8,2001:db8::/32 , 192.0.2.1')).toEqual({ ok: true, value: ['loopback', '10.0.0.0/8', '2001:db8::/32', '192.0.2.1'] });
    for (const bad of ['true', 'proxy.example.com', '10.0.0.0/33', 'loopback,', '2001:db8::/129', '-1']) {
      expect(() => loadConfig({ CERTUSORDO_TRUST_PROXY: bad })).toThrow(/CERTUSORDO_TRUST_PROXY: /);
    }
    expect(() => loadConfig({ CERTUSORDO_TRUST_PROXY: 'true' })).toThrow(/number of proxies/);
    expect(() => loadConfig({ CERTUSORDO_TRUST_PROXY: '10.0.0.0/33' })).toThrow(/prefix length must be 0-32/);
  });

  test('per-address keys: IPv4-mapped IPv6 is its IPv4 address; IPv6 counts by /64', () => {
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe(addressKey('2001:db8:1:2::9'));
    expect(addressKey('2001:db8:1:2::9')).not.toBe(addressKey('2001:db8:1:3::9'));
    expect(addressKey(undefined)).toBe('unknown');
  });
});

test('spent assertions are held while they live, not until the set is full', () => {
  const spent = new SpentAssertions();
  let now = 1_000_000;
  // A steady stream of one-minute assertions, one a second for ten minutes.
  for (let i = 0; i < 600; i++, now += 1000) spent.add('agent', `jti-${i}`, now + 60_000, now);
  expect(spent.size).toBeLessThanOrEqual(61);
  expect(spent.has('agent', 'jti-599', now)).toBe(true);
  expect(spent.has('agent', 'jti-0', now)).toBe(false);
});

describe('bounded growth', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { CERTUSORDO_TOKEN_RATE_LIMIT: '3', CERTUSORDO_REVOKE_RATE_LIMIT: '3' } });
  });
  afterAll(async () => s?.close());

  test('successful token requests per agent (CERTUSORDO_TOKEN_RATE_LIMIT per minute); failures and replays do not spend it', async () => {
    const a = await createAgent(s);
    const other = generateEd25519();
    for (let i = 0; i < 5; i++) expect((await requestToken(s, a, {}, { seed: other.seed, publicKey: other.publicKey.toString('base64url') })).status).toBe(401);
    const first = signAssertion(s, a.id, privateKey(a.seed));
    expect((await post(s.url, '/v1/oauth/token', tokenForm(first))).status).toBe(200);
    expect((await post(s.url, '/v1/oauth/token', tokenForm(first))).status).toBe(401); // replay
    expect((await requestToken(s, a)).status).toBe(200);
    expect((await requestToken(s, a)).status).toBe(200);
    const limited = await requestToken(s, a);
    expect([limited.status, limited.body.error]).toEqual([429, 'slow_down']);
    expect(Number(limited.headers['retry-after'])).toBe(20); // one more every 60/3 s
    // Another agent has its own budget.
    expect((await requestToken(s, await createAgent(s))).status).toBe(200);
    await s.running.settleAuthAudit();
    expect((await eventsFor(s.url, s.apiKey, a.id)).some((e) => e.reason === 'token_rate_limited')).toBe(true);
    expect((await eventsFor(s.url, s.apiKey, a.id)).filter((e) => e.action === 'agent.authenticated')).toHaveLength(3);
  });

  test('unauthenticated revocation per client address (CERTUSORDO_REVOKE_RATE_LIMIT per minute); authenticated callers are not affected', async () => {
    for (let i = 0; i < 3; i++) expect((await post(s.url, '/v1/oauth/revoke', { token: `garbage-${i}` })).status).toBe(200);
    const limited = await post(s.url, '/v1/oauth/revoke', { token: 'garbage' }, { 'x-forwarded-for': '203.0.113.50' });
    expect([limited.status, limited.body.error]).toEqual([429, 'slow_down']);
    const operator = await s.createApiKey('operator');
    const a = await createAgent(s);
    const token = await getToken(s, a);
    expect((await post(s.url, '/v1/oauth/revoke', { token }, { authorization: `Bearer ${operator}` })).status).toBe(200);
    const introspected = await post(s.url, '/v1/oauth/introspect', { token }, { authorization: `Bearer ${s.apiKey}` });
    expect(introspected.body).toEqual({ active: false });
  });

  test('the purge deletes sessions only past their retention (ended or expired), and expired jti/revocation rows', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const bearer = `Bearer ${await getToken(s, a)}`;
    const open = async (ttl: number) => {
      const r = await request(s.url).post('/v1/sessions').set('Authorization', bearer).send({ scopes: ['payments:read'], ttl_seconds: ttl });
      expect(r.status).toBe(201);
      return r.body as { id: string; expires_at: string };
    };
    const ended = await open(3600);
    await request(s.url).delete(`/v1/sessions/${ended.id}`).set('Authorization', bearer).expect(200);
    const shortLived = await open(60);
    const longLived = await open(3600);
    const exists = async (id: string) => (await admin(s).get(`/v1/sessions/${id}`)).status;
    await admin(s).post('/v1/oauth/revoke', { token: await getToken(s, a) }).expect(200);

    const day = 24 * 3600 * 1000;
    // Within the retention: nothing goes.
    expect((await purgeAuthRows(s.running.db.knex, { now: Date.now(), sessionRetentionMs: day })).sessions).toBe(0);
    const almost = await purgeAuthRows(s.running.db.knex, { now: Date.now() + day - 5 * 60_000, sessionRetentionMs: day });
    expect(almost.sessions).toBe(0);
    expect(almost.assertionJtis).toBeGreaterThan(0); // spent jtis go once their assertions have expired
    expect(almost.revokedTokens).toBeGreaterThan(0); // revocation records, once their tokens have expired
    // 2 minutes past a day later: the ended one and the one that expired after a minute are over.
    const counts = await purgeAuthRows(s.running.db.knex, { now: Date.now() + day + 2 * 60_000, sessionRetentionMs: day });
    expect(counts.sessions).toBeGreaterThanOrEqual(2);
    expect([await exists(ended.id), await exists(shortLived.id), await exists(longLived.id)]).toEqual([404, 404, 200]);
    const later = await purgeAuthRows(s.running.db.knex, { now: new Date(longLived.expires_at).getTime() + day + 60_000, sessionRetentionMs: day });
    expect(later.sessions).toBeGreaterThanOrEqual(1);
    expect(await exists(longLived.id)).toBe(404);
  });

  test('bodies are bounded before anything is parsed', async () => {
    const big = await tokenRequest(s, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: 'x'.repeat(70 * 1024) });
    expect([big.status, big.body.error]).toEqual([413, 'invalid_request']);
  });
});
