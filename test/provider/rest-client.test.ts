/**
 * The provider's REST client on the client core: idempotent creates, cancellation, typed errors,
 * and the core's retry policy with the provider's retry count (the policy itself: test/sdk/retry-policy.test.ts).
 */
import { startTestServer, type TestServer } from '../support/server';
import { PROVIDER_MAX_RETRIES, RestClient } from '../../provider-bridge/src/client/rest-client';
import { APIConnectionError, APIUserAbortError, AuthenticationError, NotFoundError } from '../../sdk/src/core/errors';
import { createLogger } from '../../provider-bridge/src/log';

describe('RestClient against the control plane', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('replays a create whose response was lost instead of making a second agent', async () => {
    let posts = 0;
    const keys: string[] = [];
    // The first POST reaches the server and creates the agent; its response is then "lost".
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'POST') {
        posts++;
        keys.push(new Headers(init.headers).get('idempotency-key') ?? '');
        if (posts === 1) throw new TypeError('fetch failed (connection reset)');
      }
      return res;
    };
    const client = new RestClient({ endpoint: server.url, apiKey: server.apiKey, fetch: lossy, sleep: async () => {} });
    const created = await client.createAgent({ name: 'idem-once', scopes: ['a:b'] });
    expect(posts).toBe(2);
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
    const all = [];
    for await (const a of client.listAgents({ name: 'idem-once' })) all.push(a);
    expect(all.map((a) => a.id)).toEqual([created.id]);
    // The server never replays the one-time secret (the resource warns about this case).
    expect(created.secret).toBeUndefined();
  });

  it('follows next_cursor through every page', async () => {
    const client = new RestClient({ endpoint: server.url, apiKey: server.apiKey });
    for (let i = 0; i < 7; i++) await client.createAgent({ name: `page-${i}` });
    const names: string[] = [];
    for await (const a of client.listAgents({ name_prefix: 'page-', limit: 3 })) names.push(a.name);
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
  });

  it('maps statuses to typed errors', async () => {
    const client = new RestClient({ endpoint: server.url, apiKey: server.apiKey });
    await expect(client.getAgent('00000000-0000-7000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
    expect(await client.findAgent('00000000-0000-7000-8000-000000000000')).toBeNull();
    const bad = new RestClient({ endpoint: server.url, apiKey: 'aa_wrong' });
    await expect(bad.listAgentsPage({})).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('reports an unreachable endpoint as an APIConnectionError after retrying', async () => {
    let sleeps = 0;
    const client = new RestClient({ endpoint: 'http://127.0.0.1:1', apiKey: 'x', maxRetries: 2, sleep: async () => void sleeps++ });
    await expect(client.listAgentsPage({})).rejects.toBeInstanceOf(APIConnectionError);
    expect(sleeps).toBe(2);
  });

  it(`retries ${PROVIDER_MAX_RETRIES} times by default, waiting the core's backoff, and logs each retry`, async () => {
    const waits: number[] = [];
    const lines: string[] = [];
    let calls = 0;
    const unavailable: typeof fetch = async () => {
      calls++;
      return new Response(JSON.stringify({ error: { code: 'unavailable', message: 'draining' } }), {
        status: 503,
        headers: { 'content-type': 'application/json' },
      });
    };
    const client = new RestClient({
      endpoint: server.url,
      apiKey: server.apiKey,
      fetch: unavailable,
      sleep: async (ms) => void waits.push(ms),
      logger: createLogger((l) => lines.push(l), 'debug'),
    });
    const err = await client.getAgent('00000000-0000-7000-8000-000000000000').catch((e: unknown) => e);
    expect((err as Error).name).toBe('InternalServerError');
    expect(calls).toBe(PROVIDER_MAX_RETRIES + 1);
    expect(waits).toHaveLength(PROVIDER_MAX_RETRIES);
    // Full jitter: each wait is within [0, min(500 * 2^n, 8000)).
    waits.forEach((w, n) => expect(w).toBeLessThan(Math.min(500 * 2 ** n, 8000)));
    const retries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['@message'] === 'retrying control plane request');
    expect(retries.map((l) => l.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(retries[0]).toMatchObject({ method: 'GET', reason: 'draining' });
  });

  it('cancels an in-flight request when the provider is stopped', async () => {
    const stop = new AbortController();
    let sent!: () => void;
    const inFlight = new Promise<void>((resolve) => (sent = resolve));
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        sent();
      });
    const client = new RestClient({ endpoint: server.url, apiKey: server.apiKey, fetch: hanging, stopSignal: stop.signal });
    const pending = client.getAgent('x');
    await inFlight; // the request is on the wire: stop now
    stop.abort();
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
  });

  it('never logs the API key or a secret', async () => {
    const lines: string[] = [];
    const logger = createLogger((l) => lines.push(l));
    let first = true;
    const flaky: typeof fetch = async (input, init) => {
      if (first) {
        first = false;
        throw new TypeError('fetch failed');
      }
      return fetch(input, init);
    };
    const client = new RestClient({ endpoint: server.url, apiKey: server.apiKey, logger, fetch: flaky, sleep: async () => {} });
    const created = await client.createAgent({ name: 'log-check' });
    logger.info(`oops ${server.apiKey} ${created.secret}`, { api_key: server.apiKey, note: created.secret! });
    const text = lines.join('');
    expect(lines.length).toBeGreaterThan(1);
    expect(text).not.toContain(server.apiKey);
    expect(text).not.toContain(created.secret!);
    for (const l of lines) expect(Object.keys(JSON.parse(l))).toEqual(expect.arrayContaining(['@level', '@message', '@timestamp']));
  });
});
