import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  AuthenticationError,
  CertusOrdoClient,
  CertusOrdoError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  ValidationError,
} from '../../sdk/src';
import { startPeer, wireAgent, type Peer } from './helpers/peer';

const API_KEY = 'aa_test_0123456789abcdef_secretpart';
const err = (status: number, code: string, message = code, extra: Record<string, unknown> = {}) => ({
  status,
  body: { error: { code, message, ...extra }, request_id: `req-${status}` },
});

let peer: Peer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

/** Retry waits, recorded instead of slept, so the tests check the policy without waiting for it. */
let waits: number[] = [];
beforeEach(() => {
  waits = [];
});
const recordSleep = async (ms: number) => void waits.push(ms);

function client(url: string, over: Record<string, unknown> = {}) {
  return new CertusOrdoClient({ apiKey: API_KEY, baseUrl: url, sleep: recordSleep, ...over });
}

describe('retries', () => {
  it('retries 503 twice with backoff, then succeeds, keeping one Idempotency-Key for the create', async () => {
    peer = await startPeer([err(503, 'unavailable'), err(503, 'unavailable'), { status: 201, body: wireAgent() }]);
    const agent = await client(peer.url).agents.create({ name: 'payment-processor', scopes: ['payments:read'] });
    expect(agent.name).toBe('payment-processor');
    expect(peer.received).toHaveLength(3);
    const keys = peer.received.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
    // backoff with full jitter: below 0.5 s, then below 1 s (the policy: retry-policy.test.ts)
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(0);
    expect(waits[0]).toBeLessThan(500);
    expect(waits[1]).toBeGreaterThanOrEqual(0);
    expect(waits[1]).toBeLessThan(1000);
    expect(JSON.parse(peer.received[0]!.body)).toEqual({ name: 'payment-processor', scopes: ['payments:read'] });
  });

  it('uses a new Idempotency-Key per logical create, and the caller’s key when given', async () => {
    peer = await startPeer([{ status: 201, body: wireAgent() }]);
    const c = client(peer.url);
    await c.agents.create({ name: 'a' });
    await c.agents.create({ name: 'a' });
    await c.agents.create({ name: 'a' }, { idempotencyKey: 'my-key-1' });
    const keys = peer.received.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).not.toEqual(keys[1]);
    expect(keys[2]).toBe('my-key-1');
  });

  it('does not send an Idempotency-Key on reads and transitions', async () => {
    peer = await startPeer([{ status: 200, body: wireAgent() }]);
    const c = client(peer.url);
    await c.agents.get('x');
    await c.agents.suspend('x', 'maintenance');
    expect(peer.received.map((r) => r.headers['idempotency-key'])).toEqual([undefined, undefined]);
    expect(JSON.parse(peer.received[1]!.body)).toEqual({ reason: 'maintenance' });
  });

  it('honours Retry-After on 429', async () => {
    peer = await startPeer([{ ...err(429, 'rate_limited'), headers: { 'retry-after': '1' } }, { status: 200, body: wireAgent() }]);
    await client(peer.url).agents.get('x');
    expect(peer.received).toHaveLength(2);
    expect(waits).toEqual([1000]);
  });

  it('gives up after maxRetries with a typed error carrying status, code and requestId', async () => {
    peer = await startPeer([{ ...err(429, 'rate_limited', 'slow down'), headers: { 'retry-after': '0', 'x-request-id': 'rid-1' } }]);
    const e = await client(peer.url, { maxRetries: 1 }).agents.get('x').catch((x) => x);
    expect(e).toBeInstanceOf(RateLimitError);
    expect(e).toMatchObject({ status: 429, code: 'rate_limited', requestId: 'rid-1', message: 'slow down', retryAfterMs: 0 });
    expect(peer.received).toHaveLength(2);
  });

  it('never retries 409: a conflict here is real', async () => {
    peer = await startPeer([err(409, 'invalid_transition', 'agent is revoked')]);
    const e = await client(peer.url).agents.activate('x').catch((x) => x);
    expect(e).toBeInstanceOf(ConflictError);
    expect(e.code).toBe('invalid_transition');
    expect(peer.received).toHaveLength(1);
  });

  it('does not retry 4xx and maps validation details', async () => {
    peer = await startPeer([err(400, 'validation_error', 'invalid body', { details: [{ path: 'name', message: 'name must not be empty' }] })]);
    const e = await client(peer.url).agents.create({ name: '', scopes: [] }).catch((x) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.details).toEqual([{ path: 'name', message: 'name must not be empty' }]);
    expect(e.requestId).toBe('req-400');
    expect(String(e)).toContain('name: name must not be empty');
    expect(peer.received).toHaveLength(1);
  });

  it('respects x-should-retry: false', async () => {
    peer = await startPeer([{ ...err(503, 'unavailable'), headers: { 'x-should-retry': 'false' } }]);
    await expect(client(peer.url).agents.get('x')).rejects.toBeInstanceOf(InternalServerError);
    expect(peer.received).toHaveLength(1);
  });

  it('retries network errors and reports APIConnectionError', async () => {
    peer = await startPeer([{ status: 200, body: {} }]);
    const url = peer.url;
    await peer.close();
    peer = undefined;
    const e = await client(url, { maxRetries: 1 }).agents.get('x').catch((x) => x);
    expect(e).toBeInstanceOf(APIConnectionError);
    expect(e).not.toBeInstanceOf(APITimeoutError);
    expect(e.message).toContain('could not reach CertusOrdo');
  });
});

describe('timeouts', () => {
  it('aborts an attempt that gets no answer, retries it, and reports APITimeoutError', async () => {
    peer = await startPeer([{ status: 200, hang: true }]);
    const e = await client(peer.url, { timeoutMs: 150, maxRetries: 1 }).agents.get('x').catch((x) => x);
    expect(e).toBeInstanceOf(APITimeoutError);
    expect(e).toBeInstanceOf(APIConnectionError);
    expect(peer.received).toHaveLength(2);
  });

  it('per-call timeoutMs overrides the client’s; an answer after an unanswered attempt succeeds', async () => {
    peer = await startPeer([{ status: 200, hang: true }, { status: 200, body: wireAgent() }]);
    const agent = await client(peer.url).agents.get('x', { timeoutMs: 100 });
    expect(agent.id).toBe(wireAgent().id);
    expect(peer.received).toHaveLength(2);
  });

  it('the caller’s AbortSignal cancels without retrying', async () => {
    const ac = new AbortController();
    // abort once the request has reached the peer, which then takes its time to answer
    peer = await startPeer(() => {
      setImmediate(() => ac.abort());
      return { status: 200, hang: true };
    });
    const e = await client(peer.url).agents.get('x', { signal: ac.signal }).catch((x) => x);
    expect(e).toBeInstanceOf(APIUserAbortError);
    expect(e).toBeInstanceOf(APIConnectionError);
    expect(e).not.toBeInstanceOf(APITimeoutError);
    expect(e.message).toMatch(/aborted/);
    expect(peer.received).toHaveLength(1);
  });
});

describe('requests', () => {
  it('encodes path parameters so an id cannot change the route', async () => {
    peer = await startPeer([err(404, 'not_found', 'agent not found')]);
    const c = client(peer.url);
    await expect(c.agents.get('non-existent-id')).rejects.toBeInstanceOf(NotFoundError);
    await expect(c.agents.get('../api-keys')).rejects.toBeInstanceOf(NotFoundError);
    // dot segments would be normalised away by any URL parser: refused before sending
    await expect(c.agents.get('..')).rejects.toMatchObject({ code: 'invalid_path_parameter' });
    await expect(c.agents.get('')).rejects.toBeInstanceOf(ValidationError);
    await expect(c.agents.keys.revoke('a/b', 'k?x=1')).rejects.toBeInstanceOf(NotFoundError);
    expect(peer.received.map((r) => r.url)).toEqual([
      '/v1/agents/non-existent-id',
      '/v1/agents/..%2Fapi-keys',
      '/v1/agents/a%2Fb/keys/k%3Fx%3D1',
    ]);
  });

  it('sends the API key as a bearer token and maps snake_case to camelCase with Dates', async () => {
    peer = await startPeer([{ status: 200, body: wireAgent({ last_auth_at: '2026-11-26T10:00:00.000Z', metadata: { some_key: 'v' } }) }]);
    const agent = await client(peer.url).agents.get('x');
    expect(peer.received[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(agent).toEqual({
      id: wireAgent().id,
      name: 'payment-processor',
      publicKey: wireAgent().public_key,
      scopes: ['payments:read'],
      status: 'active',
      metadata: { some_key: 'v' },
      createdAt: new Date('2026-11-25T21:00:00.000Z'),
      updatedAt: new Date('2026-11-25T21:00:01.000Z'),
      lastAuthAt: new Date('2026-11-26T10:00:00.000Z'),
      mayAct: ['6f0d3c1e-8a53-4a55-9d69-0e9a3d3f1a02'],
    });
  });

  it('maps list filters to the wire names', async () => {
    peer = await startPeer([{ status: 200, body: { data: [], next_cursor: null } }]);
    await client(peer.url).agents.listPage({
      status: 'active',
      namePrefix: 'pay',
      neverAuthenticated: true,
      inactiveSince: new Date('2026-01-01T00:00:00Z'),
      limit: 10,
    });
    const q = new URL(peer.received[0]!.url, 'http://x').searchParams;
    expect(Object.fromEntries(q)).toEqual({
      status: 'active',
      name_prefix: 'pay',
      never_authenticated: 'true',
      inactive_since: '2026-01-01T00:00:00.000Z',
      limit: '10',
    });
  });

  it('never puts the API key in an error', async () => {
    peer = await startPeer([{ status: 401, body: { error: { code: 'unauthenticated', message: 'invalid API key' } } }]);
    const e = await client(peer.url).agents.list().catch((x) => x);
    expect(e).toBeInstanceOf(AuthenticationError);
    const rendered = [e.message, String(e), e.stack, JSON.stringify(e), JSON.stringify(e.details)].join('\n');
    expect(rendered).not.toContain(API_KEY);
    expect(rendered).not.toContain('secretpart');
  });

  it('refuses an API key that fetch would quote in its error (e.g. a pasted newline)', async () => {
    peer = await startPeer([{ status: 200, body: wireAgent() }]);
    const e = await new CertusOrdoClient({ apiKey: `${API_KEY}\n`, baseUrl: peer.url }).agents.get('x').catch((x) => x);
    expect(e).toBeInstanceOf(CertusOrdoError);
    expect(e.code).toBe('invalid_configuration');
    expect(require('node:util').inspect(e)).not.toContain('secretpart');
    expect(peer.received).toHaveLength(0);
  });

  it('turns a non-JSON error page into a typed error', async () => {
    peer = await startPeer([{ status: 502, body: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } }]);
    const e = await client(peer.url, { maxRetries: 0 }).agents.get('x').catch((x) => x);
    expect(e).toBeInstanceOf(InternalServerError);
    expect(e.status).toBe(502);
    expect(e.message).toBe('request failed with status 502');
  });

  it('requires an API key and an http(s) base URL', () => {
    const saved = process.env.CERTUSORDO_API_KEY;
    delete process.env.CERTUSORDO_API_KEY;
    try {
      expect(() => new CertusOrdoClient({ baseUrl: 'http://x' })).toThrow(CertusOrdoError);
      expect(() => new CertusOrdoClient({ apiKey: 'k', baseUrl: 'ftp://x' })).toThrow(/http/);
      expect(() => new CertusOrdoClient({ apiKey: 'k', baseUrl: 'http://u:p@x' })).toThrow(/credentials/);
    } finally {
      if (saved !== undefined) process.env.CERTUSORDO_API_KEY = saved;
    }
  });

  it('reads CERTUSORDO_API_KEY and CERTUSORDO_ENDPOINT', async () => {
    peer = await startPeer([{ status: 200, body: { data: [] } }]);
    const saved = { k: process.env.CERTUSORDO_API_KEY, e: process.env.CERTUSORDO_ENDPOINT };
    process.env.CERTUSORDO_API_KEY = 'aa_from_env';
    process.env.CERTUSORDO_ENDPOINT = `${peer.url}/`;
    try {
      const c = new CertusOrdoClient();
      expect(c.baseUrl).toBe(peer.url);
      await c.apiKeys.list();
      expect(peer.received[0]!.headers.authorization).toBe('Bearer aa_from_env');
    } finally {
      for (const [k, v] of [['CERTUSORDO_API_KEY', saved.k], ['CERTUSORDO_ENDPOINT', saved.e]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe('pagination', () => {
  const pages: Record<string, { data: unknown[]; next_cursor: string | null }> = {
    '': { data: [wireAgent({ id: 'a1', name: 'a1' }), wireAgent({ id: 'a2', name: 'a2' })], next_cursor: 'c2' },
    c2: { data: [wireAgent({ id: 'a3', name: 'a3' })], next_cursor: 'c3' },
    c3: { data: [wireAgent({ id: 'a4', name: 'a4' })], next_cursor: null },
  };
  const script = (req: { url: string }) => {
    const cursor = new URL(req.url, 'http://x').searchParams.get('cursor') ?? '';
    return { status: 200, body: pages[cursor] };
  };

  it('for await over list() walks every page lazily', async () => {
    peer = await startPeer(script);
    const names: string[] = [];
    for await (const a of client(peer.url).agents.list({ status: 'active', limit: 2 })) names.push(a.name);
    expect(names).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(peer.received).toHaveLength(3);
    // filters are kept on every page
    for (const r of peer.received) expect(r.url).toContain('status=active');
  });

  it('await list() is the first page; nextPage() and iterPages() step through', async () => {
    peer = await startPeer(script);
    const c = client(peer.url);
    const first = await c.agents.list();
    expect(first.data.map((a) => a.id)).toEqual(['a1', 'a2']);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.nextPage();
    expect(second.data.map((a) => a.id)).toEqual(['a3']);
    const sizes: number[] = [];
    for await (const page of (await c.agents.listPage()).iterPages()) sizes.push(page.data.length);
    expect(sizes).toEqual([2, 1, 1]);
    expect((await c.agents.list().toArray()).length).toBe(4);
    const last = await (await second.nextPage());
    expect(last.hasNextPage()).toBe(false);
    await expect(last.nextPage()).rejects.toThrow(/no next page/);
  });

  it('a failing list rejects both await and for-await', async () => {
    peer = await startPeer([err(403, 'forbidden')]);
    const c = client(peer.url);
    await expect(c.agents.list()).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await expect(
      (async () => {
        for await (const _ of c.auditEvents.list()) void _;
      })(),
    ).rejects.toMatchObject({ status: 403 });
  });
});
