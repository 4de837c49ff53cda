/**
 * The client core's one retry policy (sdk/src/core/retry.ts, applied by core/transport.ts), shared
 * by the SDK, the CLI and the Terraform provider. Everything with a time in it is injected: the
 * fetch answers from a script, the sleep records the waits, the clock and the jitter are fixed, so
 * nothing here waits or reads the wall clock.
 */
import {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ResponseTooLargeError,
  ValidationError,
  BadRequestError,
} from '../../sdk/src/core/errors';
import type { Fetch, FetchInit } from '../../sdk/src/core/fetch';
import { path } from '../../sdk/src/core/path';
import { DEFAULT_RETRY_POLICY, retryDelayMs, shouldRetry } from '../../sdk/src/core/retry';
import { Transport, type RetryEvent, type TransportConfig } from '../../sdk/src/core/transport';

interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}
type Step = Scripted | Error | ((init: FetchInit) => Scripted | Error);

/** A fetch answering from a script (the last step repeats), recording what it was sent. */
function scriptedFetch(steps: Step[]): { fetch: Fetch; sent: Array<{ url: string; init: FetchInit }> } {
  const sent: Array<{ url: string; init: FetchInit }> = [];
  const fetch: Fetch = async (url, init) => {
    sent.push({ url, init });
    const step = steps[Math.min(sent.length - 1, steps.length - 1)]!;
    const r = typeof step === 'function' ? step(init) : step;
    if (r instanceof Error) throw r;
    const text = r.body === undefined ? '' : JSON.stringify(r.body);
    const headers = new Headers({ ...(r.body === undefined ? {} : { 'content-type': 'application/json' }), ...r.headers });
    return { status: r.status, headers, text: async () => text };
  };
  return { fetch, sent };
}

const apiError = (status: number, code: string, message = code, headers: Record<string, string> = {}): Scripted => ({
  status,
  headers,
  body: { error: { code, message }, request_id: `req-${status}` },
});
const ok = (body: unknown = { ok: true }): Scripted => ({ status: 200, body });

/** A core transport with recorded waits, a fixed clock and fixed jitter. */
function transport(steps: Step[], over: Partial<TransportConfig> = {}) {
  const waits: number[] = [];
  const { fetch, sent } = scriptedFetch(steps);
  const t = new Transport({
    baseUrl: 'https://cp.example.test',
    apiKey: 'aa_test_key',
    fetch,
    sleep: async (ms) => void waits.push(ms),
    now: () => Date.parse('2026-11-30T10:00:00Z'),
    random: () => 0.5,
    ...over,
  });
  return { t, waits, sent };
}

describe('backoff: exponential with full jitter', () => {
  it('waits random * min(0.5 s * 2^n, 8 s)', async () => {
    const { t, waits, sent } = transport([apiError(503, 'unavailable')], { maxRetries: 6, random: () => 0.999 });
    await expect(t.request({ method: 'GET', path: '/v1/agents' })).rejects.toBeInstanceOf(InternalServerError);
    expect(sent).toHaveLength(7);
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, 8000].map((ceiling) => Math.floor(0.999 * ceiling)));
  });

  it('spans the whole range from 0 to the ceiling', () => {
    expect(retryDelayMs(0, undefined, { random: () => 0 })).toBe(0);
    expect(retryDelayMs(2, undefined, { random: () => 0.5 })).toBe(1000);
    expect(retryDelayMs(9, undefined, { random: () => 0.25 })).toBe(2000);
  });

  it('retries twice by default (the SDK and CLI); a client passes its own count (the provider: 5)', async () => {
    expect(DEFAULT_RETRY_POLICY.maxRetries).toBe(2);
    const sdk = transport([apiError(500, 'internal_error')]);
    await expect(sdk.t.request({ method: 'GET', path: '/x' })).rejects.toBeInstanceOf(InternalServerError);
    expect(sdk.sent).toHaveLength(3);
    const provider = transport([apiError(500, 'internal_error')], { maxRetries: 5 });
    await expect(provider.t.request({ method: 'GET', path: '/x' })).rejects.toBeInstanceOf(InternalServerError);
    expect(provider.sent).toHaveLength(6);
    const perCall = transport([apiError(500, 'internal_error')]);
    await expect(perCall.t.request({ method: 'GET', path: '/x', options: { maxRetries: 0 } })).rejects.toBeInstanceOf(InternalServerError);
    expect(perCall.sent).toHaveLength(1);
  });
});

describe('Retry-After', () => {
  it('honours seconds, retry-after-ms and an HTTP date (read against the injected clock)', async () => {
    const inSeven = new Date(Date.parse('2026-11-30T10:00:07Z')).toUTCString();
    const { t, waits } = transport([
      apiError(429, 'rate_limited', 'slow down', { 'retry-after': '3' }),
      apiError(429, 'rate_limited', 'slow down', { 'retry-after-ms': '250' }),
      apiError(503, 'unavailable', 'draining', { 'retry-after': inSeven }),
      ok(),
    ], { maxRetries: 3 });
    await t.request({ method: 'GET', path: '/v1/agents' });
    expect(waits).toEqual([3000, 250, 7000]);
  });

  it('caps a long Retry-After at 60 s instead of parking the client', async () => {
    const { t, waits } = transport([apiError(429, 'rate_limited', 'slow down', { 'retry-after': '3600' }), ok()]);
    await t.request({ method: 'GET', path: '/v1/agents' });
    expect(waits).toEqual([DEFAULT_RETRY_POLICY.maxRetryAfterMs]);
    expect(DEFAULT_RETRY_POLICY.maxRetryAfterMs).toBe(60_000);
  });

  it('an unusable Retry-After falls back to the backoff', () => {
    expect(retryDelayMs(1, new Headers({ 'retry-after': 'soon' }), { random: () => 0.5 })).toBe(500);
  });

  it('gives up with a RateLimitError that carries the hint', async () => {
    const { t } = transport([apiError(429, 'rate_limited', 'slow down', { 'retry-after': '2', 'x-request-id': 'rid-1' })], { maxRetries: 1 });
    const e = await t.request({ method: 'GET', path: '/x' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RateLimitError);
    expect(e).toMatchObject({ status: 429, code: 'rate_limited', requestId: 'rid-1', message: 'slow down', retryAfterMs: 2000 });
  });
});

describe('what is retried', () => {
  it('408, 429 and 5xx; never 400, 401, 403, 404, 409', () => {
    const r = (status: number, headers: Record<string, string> = {}) => shouldRetry({ status, headers: new Headers(headers) });
    expect([408, 429, 500, 501, 502, 503, 504].every((s) => r(s))).toBe(true);
    expect([400, 401, 403, 404, 409, 413, 415, 422].some((s) => r(s))).toBe(false);
  });

  it('x-should-retry overrides the status both ways', async () => {
    const no = transport([apiError(503, 'unavailable', 'down', { 'x-should-retry': 'false' })]);
    await expect(no.t.request({ method: 'GET', path: '/x' })).rejects.toBeInstanceOf(InternalServerError);
    expect(no.sent).toHaveLength(1);
    const yes = transport([apiError(409, 'conflict', 'busy', { 'x-should-retry': 'true' }), ok()]);
    await expect(yes.t.request({ method: 'GET', path: '/x' })).resolves.toEqual({ ok: true });
    expect(yes.sent).toHaveLength(2);
  });

  it.each([
    [400, ValidationError],
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [409, ConflictError],
  ])('answers %i with no retry', async (status, Cls) => {
    const { t, sent, waits } = transport([apiError(status, 'refused')]);
    const e = await t.request({ method: 'POST', path: '/x', body: {} }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Cls);
    expect(e).toBeInstanceOf(APIError);
    expect(sent).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('network errors are retried and end as APIConnectionError naming only the errno code', async () => {
    const reset = Object.assign(new TypeError('fetch failed: header had aa_secret_value'), { cause: { code: 'ECONNRESET' } });
    const { t, sent, waits } = transport([reset]);
    const e = await t.request({ method: 'GET', path: '/v1/agents', query: { token: 'q-secret' } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(APIConnectionError);
    expect((e as Error).message).toBe('could not reach CertusOrdo at https://cp.example.test (GET /v1/agents): ECONNRESET');
    expect(sent).toHaveLength(3);
    expect(waits).toHaveLength(2);
  });

  it('a fetch adapter’s own verdict (a body over its cap) passes through and is not retried', async () => {
    const { t, sent } = transport([new ResponseTooLargeError({ origin: 'https://cp.example.test', limitBytes: 1024, status: 200 })]);
    const e = await t.request({ method: 'GET', path: '/v1/agents' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ResponseTooLargeError);
    expect((e as Error).message).toBe('the response from https://cp.example.test (HTTP 200) exceeded the 1 KiB limit; the read was aborted and the body discarded');
    expect(sent).toHaveLength(1);
  });
});

describe('every retry of one call is the same logical request', () => {
  it('one Idempotency-Key per logical create, the caller’s when given; none on reads', async () => {
    const { t, sent } = transport([apiError(503, 'unavailable'), apiError(502, 'bad_gateway'), { status: 201, body: { id: 'a' } }]);
    await t.request({ method: 'POST', path: '/v1/agents', body: { name: 'a' }, idempotent: true });
    const keys = sent.map((s) => s.init.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys)).toEqual(new Set([keys[0]]));

    const mine = transport([ok()]);
    await mine.t.request({ method: 'POST', path: '/v1/agents', body: {}, idempotent: true, options: { idempotencyKey: 'my-key-1' } });
    await mine.t.request({ method: 'POST', path: '/v1/agents', body: {}, idempotent: true });
    await mine.t.request({ method: 'GET', path: '/v1/agents' });
    const [given, fresh, read] = mine.sent.map((s) => s.init.headers['idempotency-key']);
    expect(given).toBe('my-key-1');
    expect(fresh).not.toBe('my-key-1');
    expect(read).toBeUndefined();
  });

  it('a body, form or bearer function is called again for each attempt', async () => {
    let n = 0;
    const { t, sent } = transport([apiError(503, 'unavailable'), ok()]);
    await t.request({ method: 'POST', path: '/v1/oauth/token', body: () => ({ assertion: `jwt-${++n}` }), bearer: '' });
    expect(sent.map((s) => s.init.body)).toEqual(['{"assertion":"jwt-1"}', '{"assertion":"jwt-2"}']);
    expect(sent.every((s) => s.init.headers.authorization === undefined)).toBe(true);
  });
});

describe('cancellation', () => {
  it('an abort during the wait ends the call with APIUserAbortError, without another attempt', async () => {
    const ac = new AbortController();
    const { t, sent } = transport([apiError(503, 'unavailable')], {
      sleep: async () => {
        ac.abort();
      },
    });
    const e = await t.request({ method: 'GET', path: '/x', options: { signal: ac.signal } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(APIUserAbortError);
    expect(e).toBeInstanceOf(APIConnectionError);
    expect(sent).toHaveLength(1);
  });

  it('an aborted signal sends nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    const { t, sent } = transport([ok()]);
    await expect(t.request({ method: 'GET', path: '/x', options: { signal: ac.signal } })).rejects.toBeInstanceOf(APIUserAbortError);
    expect(sent).toHaveLength(0);
  });
});

describe('hooks for the provider', () => {
  it('redact cleans every string an error takes from the response; onRetry hears each retry', async () => {
    const events: RetryEvent[] = [];
    const echo: Scripted = {
      status: 500,
      headers: { 'x-request-id': 'rid SECRET' },
      body: { error: { code: 'bad SECRET', message: 'you sent SECRET', details: [{ path: 'SECRET', message: 'was SECRET' }] } },
    };
    const { t } = transport([echo], { redact: (s) => s.split('SECRET').join('[redacted]'), onRetry: (e) => events.push(e), maxRetries: 1 });
    const e = (await t.request({ method: 'GET', path: '/v1/agents?x=1' }).catch((x: unknown) => x)) as APIError;
    expect([e.message, e.code, e.requestId, JSON.stringify(e.details)].join(' ')).not.toContain('SECRET');
    expect(e.message).toBe('you sent [redacted]');
    expect(events).toEqual([expect.objectContaining({ method: 'GET', path: '/v1/agents', attempt: 1, delayMs: 250 })]);
    expect(events[0]!.error.message).toBe('you sent [redacted]');
  });
});

describe('errors', () => {
  it('every 400 is a ValidationError (also named BadRequestError), with the server’s code', async () => {
    const { t } = transport([{ status: 400, body: { error: 'invalid_scope', error_description: 'unknown scope' } }]);
    const e = await t.request({ method: 'POST', path: '/v1/oauth/token', form: { scope: 'x' } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect(e).toBeInstanceOf(BadRequestError);
    expect(e).toMatchObject({ status: 400, code: 'invalid_scope', message: 'unknown scope' });
  });

  it('an OAuth invalid_grant (400) is an authentication failure, not bad input', async () => {
    const { t } = transport([{ status: 400, body: { error: 'invalid_grant', error_description: 'agent suspended' } }]);
    await expect(t.request({ method: 'POST', path: '/v1/oauth/token', body: {} })).rejects.toBeInstanceOf(AuthenticationError);
  });
});

describe('the path tag', () => {
  it('encodes each value as one segment and refuses empty, "." and ".."', () => {
    expect(path`/v1/agents/${'../api-keys'}/keys/${'k?x=1'}`).toBe('/v1/agents/..%2Fapi-keys/keys/k%3Fx%3D1');
    for (const bad of ['', '.', '..']) {
      expect(() => path`/v1/agents/${bad}`).toThrow(ValidationError);
    }
  });
});
