/**
 * The one HTTP transport of every CertusOrdo client: the SDK's admin client and agent credentials,
 * the CLI (through the SDK) and the Terraform provider all send their requests through
 * `Transport.request`. It owns per-attempt timeouts, the retry loop (policy in ./retry.ts), the
 * Idempotency-Key of a logical create, cancellation, and turning failures into ./errors.ts classes.
 *
 * Browser-safe: global fetch (or an injected one), AbortController, WebCrypto; no Node modules.
 * Everything with a time in it is injectable (`fetch`, `sleep`, `now`, `random`), so the policy is
 * tested without waiting.
 */
import { randomId } from '../internal/encoding';
import {
  APIConnectionError,
  APIError,
  APITimeoutError,
  APIUserAbortError,
  CertusOrdoError,
  ConfigurationError,
  errorFromResponse,
} from './errors';
import type { Fetch, FetchInit, FetchResponse } from './fetch';
import { DEFAULT_RETRY_POLICY, retryDelayMs, shouldRetry, type RetryPolicy } from './retry';

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = DEFAULT_RETRY_POLICY.maxRetries;
export const SDK_VERSION = '0.1.0';

/** Per-call options every SDK method accepts as its last argument. */
export interface RequestOptions {
  /** Per-attempt timeout; overrides the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Overrides the client's `maxRetries`. */
  maxRetries?: number;
  /** For creates: your own Idempotency-Key (one is generated otherwise). */
  idempotencyKey?: string;
  /** Cancels the call (and any pending retry) with an `APIUserAbortError`. */
  signal?: AbortSignal;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export type QueryValue = string | number | boolean | Date | null | undefined | readonly string[];
/** Field pairs; a list of pairs repeats a name (e.g. RFC 8707 `resource`). */
export type Form = Record<string, string> | Array<[string, string]>;

export interface TransportRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Built with the `path` tag, e.g. path`/v1/agents/${id}`. */
  path: string;
  /** A list value repeats the parameter (`id=a&id=b`); null and undefined are left out. */
  query?: Record<string, QueryValue>;
  /** JSON body; a function is called again for each attempt (a signed client assertion is single-use). */
  body?: unknown;
  /** Form body (`application/x-www-form-urlencoded`); a function is called again for each attempt. */
  form?: Form | (() => Form | Promise<Form>);
  /** Sends one Idempotency-Key (the caller's `options.idempotencyKey`, else a new one), the same on every retry. */
  idempotent?: boolean;
  /** Bearer credential for this call; defaults to the transport's API key; '' sends none. A function is called per attempt. */
  bearer?: string | (() => Promise<string>);
  /**
   * Headers that authorize this one attempt, given its method and URL (a DPoP proof is bound to
   * both and single-use, so it is made per attempt); instead of `bearer`.
   */
  authorize?: (method: string, url: string) => Promise<Record<string, string>>;
  /** Told every answer's headers, errors and retried ones included (e.g. a server's `DPoP-Nonce`). */
  onResponse?: (headers: FetchResponse['headers']) => void;
  options?: RequestOptions | undefined;
}

/** Resolves after `ms`, or rejects when `signal` aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** What `onRetry` is told before each wait. */
export interface RetryEvent {
  method: string;
  /** The request path, without the query. */
  path: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  /** Why the previous attempt failed. */
  error: APIError;
}

export interface TransportConfig {
  baseUrl: string;
  apiKey?: string | undefined;
  /** Per-attempt timeout in ms (default 60 000). */
  timeoutMs?: number | undefined;
  /** Retries of failed requests (default 2; the policy is in sdk/src/core/retry.ts). */
  maxRetries?: number | undefined;
  /** A fetch implementation (default `globalThis.fetch`). */
  fetch?: Fetch | undefined;
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string> | undefined;
  /** Waits between retries (default: a timer). Inject one to test retry behaviour without waiting. */
  sleep?: Sleep | undefined;
  /** The clock (ms since the epoch) for HTTP-date `Retry-After` values (default `Date.now`). */
  now?: (() => number) | undefined;
  /** The jitter source, uniform in [0, 1); defaults to Math.random. */
  random?: (() => number) | undefined;
  /** Applied to every string an error takes from a response (the provider scrubs echoed credentials). */
  redact?: ((text: string) => string) | undefined;
  /** Told about each retry before its wait (the provider logs them). */
  onRetry?: ((event: RetryEvent) => void) | undefined;
}

export class Transport {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly #apiKey: string | undefined;
  readonly #fetch: Fetch;
  readonly #defaultHeaders: Record<string, string>;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #redact: (text: string) => string;
  readonly #onRetry: ((event: RetryEvent) => void) | undefined;
  readonly #policy: RetryPolicy;

  constructor(config: TransportConfig) {
    this.baseUrl = normalizeBaseUrl(config.baseUrl);
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = config.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.#policy = { ...DEFAULT_RETRY_POLICY, maxRetries: this.maxRetries };
    this.#apiKey = config.apiKey;
    const f = config.fetch ?? defaultFetch();
    if (typeof f !== 'function') throw new ConfigurationError('no fetch implementation available; pass `fetch` to the client');
    this.#fetch = f;
    this.#defaultHeaders = config.defaultHeaders ?? {};
    this.#sleep = config.sleep ?? timerSleep;
    this.#now = config.now ?? Date.now;
    this.#random = config.random ?? Math.random;
    this.#redact = config.redact ?? ((t) => t);
    this.#onRetry = config.onRetry;
  }

  /** Absolute URL of an API path (e.g. the token endpoint, the client assertion's audience). */
  url(p: string, query?: Record<string, QueryValue>): string {
    const url = new URL(this.baseUrl + p);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null) continue;
      if (isList(v)) for (const item of v) url.searchParams.append(k, item);
      else url.searchParams.set(k, v instanceof Date ? v.toISOString() : String(v));
    }
    return url.toString();
  }

  /** Sends the request, retrying when that is safe and useful; resolves with the parsed JSON body. */
  async request<T>(req: TransportRequest): Promise<T> {
    const opts = req.options ?? {};
    const maxRetries = opts.maxRetries ?? this.maxRetries;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const url = this.url(req.path, req.query);
    // One key per logical request, made before the loop so every retry carries the same key.
    const idempotencyKey = req.idempotent ? (opts.idempotencyKey ?? randomId()) : undefined;

    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted) throw new APIUserAbortError();
      // Built per attempt: a form, body or bearer function (a signed client assertion) must be fresh each time.
      const init = await this.#buildInit(req, url, idempotencyKey);
      let failure: APIError;
      let response: FetchResponse | undefined;
      try {
        const answer = await this.#fetchWithTimeout(url, init, timeoutMs, opts.signal);
        response = answer.response;
        req.onResponse?.(response.headers);
        const body = parseBody(answer.text, response.headers.get('content-type'));
        const ok = response.status >= 200 && response.status < 300;
        if (ok && body === INVALID_JSON) {
          throw new APIError(`invalid JSON in response from ${req.method} ${req.path}`, {
            status: response.status,
            requestId: this.#maybeRedact(response.headers.get('x-request-id')),
          });
        }
        if (ok) return body as T;
        failure = errorFromResponse(response.status, body === INVALID_JSON ? undefined : body, response.headers, this.#redact);
        if (!shouldRetry(response)) throw failure;
      } catch (err) {
        if (!(err instanceof APIConnectionError) || err instanceof APIUserAbortError) throw err;
        failure = err;
      }
      if (attempt >= maxRetries) throw failure;
      const delayMs = retryDelayMs(attempt, response?.headers, { random: this.#random, now: this.#now, policy: this.#policy });
      this.#onRetry?.({ method: req.method, path: new URL(url).pathname, attempt: attempt + 1, delayMs, error: failure });
      await this.#pause(delayMs, opts.signal);
    }
  }

  #maybeRedact(text: string | null): string | undefined {
    return text === null ? undefined : this.#redact(text);
  }

  /** The injected sleep, with the caller's cancellation honoured whatever the sleep does. */
  async #pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw new APIUserAbortError();
    await this.#sleep(ms, signal);
    if (signal?.aborted) throw new APIUserAbortError();
  }

  async #buildInit(req: TransportRequest, url: string, idempotencyKey: string | undefined): Promise<Omit<FetchInit, 'signal'>> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': `certusordo-sdk-ts/${SDK_VERSION}`,
      ...this.#defaultHeaders,
    };
    // fetch would reject a value with such characters with an error quoting it: refuse here, without the value.
    const invalid = () => new ConfigurationError('the API key or token contains invalid characters (whitespace or non-ASCII)');
    if (req.authorize) {
      const authorization = await req.authorize(req.method, url);
      for (const value of Object.values(authorization)) if (!/^[\x21-\x7e]+( [\x21-\x7e]+)?$/.test(value)) throw invalid();
      Object.assign(headers, authorization);
    } else {
      const bearer = typeof req.bearer === 'function' ? await req.bearer() : (req.bearer ?? this.#apiKey);
      if (bearer) {
        if (!/^[\x21-\x7e]+$/.test(bearer)) throw invalid();
        headers.authorization = `Bearer ${bearer}`;
      }
    }
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let body: string | undefined;
    if (req.form !== undefined) {
      const form = typeof req.form === 'function' ? await req.form() : req.form;
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    } else if (req.body !== undefined) {
      const value: unknown = typeof req.body === 'function' ? await (req.body as () => unknown)() : req.body;
      headers['content-type'] = 'application/json';
      body = JSON.stringify(value);
    }
    Object.assign(headers, req.options?.headers);
    return body === undefined ? { method: req.method, headers } : { method: req.method, headers, body };
  }

  /**
   * One attempt under its own timeout, linked to the caller's signal. Whatever the fetch throws
   * becomes an APIConnectionError (retried), unless it is already a CertusOrdoError: an adapter's
   * final verdict (a body over its cap, a refused endpoint) passes through and is not retried.
   */
  async #fetchWithTimeout(
    url: string,
    init: Omit<FetchInit, 'signal'>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ response: FetchResponse; text: string }> {
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
      // Called as a plain function: browsers refuse `fetch` called with another object as `this`.
      const fetchFn = this.#fetch;
      const response = await fetchFn(url, { ...init, signal: controller.signal });
      // The body is read under the same timeout: a server that stalls mid-body is a timeout too.
      const text = await response.text();
      return { response, text };
    } catch (err) {
      if (signal?.aborted) throw new APIUserAbortError(undefined, { cause: err });
      if (timedOut) throw new APITimeoutError(`no answer within ${timeoutMs} ms from ${describe(init.method, url)}`, { cause: err });
      if (err instanceof CertusOrdoError) throw err;
      throw new APIConnectionError(`could not reach ${describe(init.method, url)}${errnoSuffix(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** The runtime's fetch, looked up per call so a polyfill installed later is used too. */
function defaultFetch(): Fetch | undefined {
  if (typeof globalThis.fetch !== 'function') return undefined;
  return (url, init) => globalThis.fetch(url, init);
}

const INVALID_JSON = Symbol('invalid-json');

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return undefined;
  if (!(contentType ?? '').includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID_JSON;
  }
}

function isList(v: QueryValue): v is readonly string[] {
  return Array.isArray(v);
}

/** `CertusOrdo at <origin> (<method> <path>)`: never the query, where a caller might have put a secret. */
function describe(method: string, url: string): string {
  const u = new URL(url);
  return `CertusOrdo at ${u.origin} (${method} ${u.pathname})`;
}

/**
 * The errno-style code of a network failure (`ECONNREFUSED`, `ENOTFOUND`, ...), from the error or
 * its cause. Only the code: a message can quote a header value, and headers carry the key.
 */
function errnoSuffix(err: unknown): string {
  const pick = (e: unknown): string | undefined => {
    const code = (e as { code?: unknown } | null)?.code;
    return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
  };
  const code = pick(err) ?? pick((err as { cause?: unknown } | null)?.cause);
  return code ? `: ${code}` : '';
}

function timerSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new APIUserAbortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIUserAbortError());
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
    throw new ConfigurationError('baseUrl must be an absolute http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigurationError('baseUrl must be an absolute http(s) URL');
  }
  if (u.username || u.password) {
    throw new ConfigurationError('baseUrl must not contain credentials; pass apiKey instead');
  }
  return u.toString().replace(/\/+$/, '');
}
