/**
 * The SDK's only HTTP transport: every call of the admin client and of the agent credentials goes
 * through `Transport.request`. It owns timeouts (AbortController per attempt), retries with
 * backoff, `Retry-After`, the Idempotency-Key of creates, and turning failures into typed errors.
 */
import {
  APIConnectionError,
  APITimeoutError,
  CertusOrdoError,
  retryAfterMs,
} from '../errors';
import { randomId } from './encoding';

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 2;
const INITIAL_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 8_000;
/** A server's Retry-After is honoured up to this; a longer one falls back to our own backoff. */
const MAX_RETRY_AFTER_MS = 60_000;
export const SDK_VERSION = '0.1.0';

/** Per-call options every SDK method accepts as its last argument. */
export interface RequestOptions {
  /** Per-attempt timeout; overrides the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Overrides the client's `maxRetries`. */
  maxRetries?: number;
  /** For creates: your own Idempotency-Key (one is generated otherwise). */
  idempotencyKey?: string;
  /** Cancels the call (and any pending retry). */
  signal?: AbortSignal;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export type QueryValue = string | number | boolean | Date | null | undefined;
/** Field pairs; a list of pairs repeats a name (e.g. RFC 8707 `resource`). */
type Form = Record<string, string> | Array<[string, string]>;

export interface TransportRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Built with the `path` tag, e.g. path`/v1/agents/${id}`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** JSON body. */
  body?: unknown;
  /** Form body (`application/x-www-form-urlencoded`); a function is called again for each attempt. */
  form?: Form | (() => Promise<Form>);
  /** Sends one Idempotency-Key, the same on every retry of this call. */
  idempotent?: boolean;
  /** Bearer credential for this call; defaults to the transport's API key. A function is called per attempt. */
  bearer?: string | (() => Promise<string>);
  options?: RequestOptions | undefined;
}

export interface TransportConfig {
  baseUrl: string;
  apiKey?: string | undefined;
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
  /** A fetch implementation (defaults to `globalThis.fetch`). */
  fetch?: typeof fetch | undefined;
  defaultHeaders?: Record<string, string> | undefined;
  /** Waits between retries (defaults to a timer); tests inject one that records and returns at once. */
  sleep?: Sleep | undefined;
}

/** Resolves after `ms`, or rejects when `signal` aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export class Transport {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #defaultHeaders: Record<string, string>;
  readonly #sleep: Sleep;

  constructor(config: TransportConfig) {
    this.baseUrl = normalizeBaseUrl(config.baseUrl);
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = config.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.#apiKey = config.apiKey;
    const f = config.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new CertusOrdoError('no fetch implementation available; pass `fetch` to the client');
    this.#fetch = f;
    this.#defaultHeaders = config.defaultHeaders ?? {};
    this.#sleep = config.sleep ?? timerSleep;
  }

  /** Absolute URL of an API path (e.g. the token endpoint, the client assertion's audience). */
  url(p: string, query?: Record<string, QueryValue>): string {
    const url = new URL(this.baseUrl + p);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null) continue;
      url.searchParams.set(k, v instanceof Date ? v.toISOString() : String(v));
    }
    return url.toString();
  }

  /** Sends the request, retrying when that is safe and useful; resolves with the parsed JSON body. */
  async request<T>(req: TransportRequest): Promise<T> {
    const opts = req.options ?? {};
    const maxRetries = opts.maxRetries ?? this.maxRetries;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const url = this.url(req.path, req.query);
    // One key per logical request, generated before the loop so every retry carries the same key.
    const idempotencyKey = req.idempotent ? (opts.idempotencyKey ?? randomId()) : undefined;

    for (let attempt = 0; ; attempt++) {
      const retriesLeft = maxRetries - attempt;
      // Built per attempt: a form or bearer function (a signed client assertion) must be fresh each time.
      const init = await this.#buildInit(req, idempotencyKey);
      let response: Response;
      let text: string;
      try {
        ({ response, text } = await this.#fetchWithTimeout(url, init, timeoutMs, opts.signal));
      } catch (err) {
        if (opts.signal?.aborted) throw new APIConnectionError('request aborted by the caller', { cause: err });
        const error =
          err instanceof APIConnectionError ? err : new APIConnectionError(connectionMessage(req.method, url), { cause: err });
        if (retriesLeft <= 0) throw error;
        await this.#pause(retryDelayMs(attempt, undefined), opts.signal);
        continue;
      }

      const body = parseBody(text, response.headers);
      if (response.ok) {
        if (body === INVALID_JSON) {
          throw new CertusOrdoError(`invalid JSON in response from ${req.method} ${req.path}`, {
            status: response.status,
            requestId: response.headers.get('x-request-id') ?? undefined,
          });
        }
        return body as T;
      }
      if (retriesLeft > 0 && shouldRetry(response)) {
        await this.#pause(retryDelayMs(attempt, response.headers), opts.signal);
        continue;
      }
      throw CertusOrdoError.generate(response.status, body === INVALID_JSON ? undefined : body, response.headers);
    }
  }

  /** The injected sleep, with the caller's cancellation honoured whatever the sleep does. */
  async #pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw new APIConnectionError('request aborted by the caller');
    await this.#sleep(ms, signal);
    if (signal?.aborted) throw new APIConnectionError('request aborted by the caller');
  }

  async #buildInit(req: TransportRequest, idempotencyKey: string | undefined): Promise<RequestInit> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': `certusordo-sdk-ts/${SDK_VERSION}`,
      ...this.#defaultHeaders,
    };
    const bearer = typeof req.bearer === 'function' ? await req.bearer() : (req.bearer ?? this.#apiKey);
    if (bearer) {
      // fetch would reject such a value with an error quoting it: refuse here, without the value.
      if (!/^[\x21-\x7e]+$/.test(bearer)) {
        throw new CertusOrdoError('the API key or token contains invalid characters (whitespace or non-ASCII)', { code: 'invalid_configuration' });
      }
      headers.authorization = `Bearer ${bearer}`;
    }
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let body: string | undefined;
    if (req.form !== undefined) {
      const form = typeof req.form === 'function' ? await req.form() : req.form;
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    } else if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.body);
    }
    Object.assign(headers, req.options?.headers);
    return body === undefined ? { method: req.method, headers } : { method: req.method, headers, body };
  }

  async #fetchWithTimeout(
    url: string,
    init: RequestInit,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ response: Response; text: string }> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    if (signal?.aborted) controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await this.#fetch(url, { ...init, signal: controller.signal });
      // The body is read under the same timeout: a server that stalls mid-body is a timeout too.
      const text = await response.text();
      return { response, text };
    } catch (err) {
      if (timedOut) throw new APITimeoutError(`request timed out after ${timeoutMs} ms`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** openai-node / stripe-node rules, except 409: here a conflict is real, never transient. */
export function shouldRetry(response: { status: number; headers: Headers }): boolean {
  const hint = response.headers.get('x-should-retry');
  if (hint === 'true') return true;
  if (hint === 'false') return false;
  return response.status === 408 || response.status === 429 || response.status >= 500;
}

/**
 * Delay before retry number `attempt + 1`: the server's Retry-After (≤ 60 s) when present, else
 * exponential backoff 0.5 s, 1 s, 2 s … capped at 8 s, with ±25 % jitter.
 */
export function retryDelayMs(attempt: number, headers: Headers | undefined, random: () => number = Math.random): number {
  const hinted = headers ? retryAfterMs(headers) : undefined;
  if (hinted !== undefined && hinted <= MAX_RETRY_AFTER_MS) return hinted;
  const base = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** attempt, MAX_RETRY_DELAY_MS);
  return base * (1 + (random() * 2 - 1) * 0.25);
}

const INVALID_JSON = Symbol('invalid-json');

function parseBody(text: string, headers: Headers): unknown {
  if (text === '') return undefined;
  const type = headers.get('content-type') ?? '';
  if (!type.includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID_JSON;
  }
}

function connectionMessage(method: string, url: string): string {
  const u = new URL(url);
  return `could not reach CertusOrdo at ${u.origin} (${method} ${u.pathname})`;
}

function timerSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new APIConnectionError('request aborted by the caller'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIConnectionError('request aborted by the caller'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function normalizeBaseUrl(baseUrl: string): string {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new CertusOrdoError('baseUrl must be an absolute http(s) URL', { code: 'invalid_configuration' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new CertusOrdoError('baseUrl must be an absolute http(s) URL', { code: 'invalid_configuration' });
  }
  if (u.username || u.password) {
    throw new CertusOrdoError('baseUrl must not contain credentials; pass apiKey instead', { code: 'invalid_configuration' });
  }
  return u.toString().replace(/\/+$/, '');
}
