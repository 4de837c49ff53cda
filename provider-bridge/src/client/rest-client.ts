/**
 * The provider's only transport to the control plane: timeouts, retries with exponential
 * backoff + jitter on 429/5xx/network errors (Retry-After honoured), one Idempotency-Key per
 * logical create, and cancellation through the provider-wide stop signal (StopProvider).
 */
import { randomUUID } from 'node:crypto';
import { AbortedError, ApiError, ConnectionError, InsecureEndpointError, ResponseTooLargeError } from './errors';
import { INSECURE_FIX, displayEndpoint, needsInsecureOptIn } from './endpoint';
import { scrubSecrets } from './scrub';
import type { Agent, AgentCreate, AgentKey, AgentListQuery, AgentPatch, CreatedAgent, CreatedAgentKey, Page, TokenRequest, TokenResponse } from './types';
import type { Logger } from '../log';
import { nodeTransport, type Transport, type TransportResponse } from './transport';
import { BatchReader } from './batch-reader';

/** Most ids in one `GET /v1/agents?id=…` (the control plane's page maximum). */
export const MAX_IDS_PER_LIST = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RestClientOptions {
  endpoint: string;
  apiKey: string;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  maxRetries?: number;
  /** Aborted when Terraform sends StopProvider. */
  stopSignal?: AbortSignal;
  logger?: Logger;
  userAgent?: string;
  /** Injected in tests to avoid real sleeping. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Defaults to node:http with keep-alive; tests pass a wrapped global fetch to lose responses on purpose. */
  fetch?: Transport;
  /** Allows plain http to hosts that are not loopback (the provider's `insecure` opt-in). */
  insecure?: boolean;
  /** Response body cap per request; defaults to the transport's MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
  /** Batched findAgent lists outstanding at once (default 1: reads arriving meanwhile join the next batch). */
  readBatchesInFlight?: number;
}

interface RequestOptions {
  /** A function is called again for every attempt (a client assertion must be fresh per try). */
  body?: unknown;
  /** No Authorization header: the OAuth token endpoint refuses one, and a token revokes itself. */
  anonymous?: boolean;
  /** An array value repeats the parameter (`id=a&id=b`). */
  query?: Record<string, string | number | readonly string[] | undefined>;
  idempotencyKey?: string;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 60_000;

/** 0.5 s doubling to 8 s, minus up to 25 % jitter so parallel retries spread out. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(500 * 2 ** attempt, 8000);
  return Math.round(base * (1 - 0.25 * random()));
}

/** Retry-After as seconds or HTTP date; null when absent or unusable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return Math.min(secs * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.min(Math.max(at - now, 0), MAX_RETRY_AFTER_MS);
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class RestClient {
  private readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private reader: BatchReader<Agent> | undefined;

  constructor(private readonly opts: RestClientOptions) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxRetries = opts.maxRetries ?? 5;
    this.sleep = opts.sleep ?? defaultSleep;
  }

  async request<T>(method: string, path: string, ro: RequestOptions = {}): Promise<T> {
    const url = new URL(this.endpoint + path);
    // Userinfo is never sent (the key goes in the Authorization header) and never printed.
    url.username = '';
    url.password = '';
    if (needsInsecureOptIn(url) && !this.opts.insecure) {
      throw new InsecureEndpointError(`refused to send the API key over plain http to ${displayEndpoint(new URL(url.origin))}. ${INSECURE_FIX}`);
    }
    for (const [k, v] of Object.entries(ro.query ?? {})) {
      if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, item);
      else if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      ...(ro.anonymous ? {} : { authorization: `Bearer ${this.opts.apiKey}` }),
      accept: 'application/json',
      'user-agent': this.opts.userAgent ?? 'terraform-provider-certusordo',
    };
    if (ro.body !== undefined) headers['content-type'] = 'application/json';
    if (ro.idempotencyKey) headers['idempotency-key'] = ro.idempotencyKey;
    const bodyOf = (): string | undefined =>
      ro.body === undefined ? undefined : JSON.stringify(typeof ro.body === 'function' ? (ro.body as () => unknown)() : ro.body);

    for (let attempt = 0; ; attempt++) {
      if (this.opts.stopSignal?.aborted) throw new AbortedError();
      let retryAfter: number | null = null;
      let failure: Error;
      try {
        const res = await this.fetchOnce(url, method, headers, bodyOf());
        const requestId = res.headers.get('x-request-id');
        const text = await res.text();
        const parsed: unknown = text ? safeJson(text) : null;
        if (res.ok) return parsed as T;
        failure = ApiError.from(res.status, oauthErrorAsApiError(parsed), requestId, (t) => this.scrub(t));
        if (!RETRYABLE_STATUS.has(res.status)) throw failure;
        retryAfter = parseRetryAfter(res.headers.get('retry-after'));
      } catch (err) {
        if (err instanceof ApiError && !RETRYABLE_STATUS.has(err.status)) throw err;
        // Not transient: retrying would only repeat the same refusal or the same oversized body.
        if (err instanceof AbortedError || err instanceof ResponseTooLargeError || err instanceof InsecureEndpointError) throw err;
        failure = err as Error;
      }
      if (attempt >= this.maxRetries) throw failure;
      const wait = retryAfter ?? backoffMs(attempt);
      this.opts.logger?.debug('retrying control plane request', {
        method,
        path: url.pathname,
        attempt: attempt + 1,
        wait_ms: wait,
        reason: failure.message,
      });
      await this.sleep(wait, this.opts.stopSignal);
    }
  }

  /** One attempt: per-attempt timeout combined with the provider-wide stop signal. */
  private async fetchOnce(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<TransportResponse> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signals = [timeout, ...(this.opts.stopSignal ? [this.opts.stopSignal] : [])];
    try {
      return await (this.opts.fetch ?? nodeTransport)(url, {
        method,
        headers,
        body,
        signal: AbortSignal.any(signals),
        loopbackOnly: url.protocol === 'http:' && !this.opts.insecure,
        maxResponseBytes: this.opts.maxResponseBytes,
      });
    } catch (err) {
      if (this.opts.stopSignal?.aborted) throw new AbortedError();
      if (err instanceof ResponseTooLargeError) throw err;
      if (timeout.aborted) throw new ConnectionError(`no answer from ${url.origin} within ${this.timeoutMs} ms`, true);
      // node:http puts the errno code on the error; fetch puts it on `cause`.
      const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
      if (e.code === 'ENOTLOOPBACK') {
        throw new InsecureEndpointError(`refused to send the API key over plain http: ${url.hostname} does not resolve to a loopback address. ${INSECURE_FIX}`);
      }
      throw new ConnectionError(`cannot reach ${url.origin}: ${this.scrub(e.code ?? e.cause?.code ?? e.cause?.message ?? e.message ?? 'unknown error')}`, false, { cause: err });
    }
  }

  /** Network-supplied text loses this client's key (and anything key-shaped) before it is shown. */
  private scrub(text: string): string {
    return scrubSecrets(text, [this.opts.apiKey]);
  }

  // --- agents -------------------------------------------------------------------------

  /** The idempotency key is made here, once, before any retry: a retried create is a replay. */
  createAgent(input: AgentCreate, idempotencyKey: string = randomUUID()): Promise<CreatedAgent> {
    return this.request<CreatedAgent>('POST', '/v1/agents', { body: input, idempotencyKey });
  }

  getAgent(id: string): Promise<Agent> {
    return this.request<Agent>('GET', `/v1/agents/${encodeURIComponent(id)}`);
  }

  /**
   * Like getAgent, but null when the agent does not exist. Concurrent calls (Terraform refreshing
   * many agents) are coalesced into `GET /v1/agents?id=…` lists of up to MAX_IDS_PER_LIST ids.
   */
  findAgent(id: string): Promise<Agent | null> {
    // The control plane answers a malformed id with 404; it never needs a request.
    if (!UUID.test(id)) return Promise.resolve(null);
    this.reader ??= new BatchReader<Agent>({ load: (ids) => this.findAgents(ids), maxBatch: MAX_IDS_PER_LIST, maxInFlight: this.opts.readBatchesInFlight });
    return this.reader.get(id.toLowerCase());
  }

  /**
   * The agents among `ids` (at most MAX_IDS_PER_LIST), keyed by id; missing ids do not exist in this
   * organization. A batch whose answer exceeds the response cap (agents with metadata near the
   * model's limits) is asked for again in halves; only a single agent over the cap is an error.
   */
  async findAgents(ids: readonly string[]): Promise<Map<string, Agent>> {
    const found = new Map<string, Agent>();
    if (ids.length === 0) return found;
    try {
      const page = await this.listAgentsPage({ id: [...ids], limit: ids.length });
      for (const a of page.data) found.set(a.id, a);
      return found;
    } catch (err) {
      if (!(err instanceof ResponseTooLargeError) || ids.length <= 1) throw err;
      const half = Math.ceil(ids.length / 2);
      this.opts.logger?.debug('agent batch over the response cap; asking in halves', { ids: ids.length });
      const parts = await Promise.all([this.findAgents(ids.slice(0, half)), this.findAgents(ids.slice(half))]);
      return new Map([...parts[0], ...parts[1]]);
    }
  }

  updateAgent(id: string, patch: AgentPatch): Promise<Agent> {
    return this.request<Agent>('PATCH', `/v1/agents/${encodeURIComponent(id)}`, { body: patch });
  }

  suspendAgent(id: string, reason?: string): Promise<Agent> {
    return this.request<Agent>('POST', `/v1/agents/${encodeURIComponent(id)}/suspend`, { body: reason ? { reason } : {} });
  }

  activateAgent(id: string, reason?: string): Promise<Agent> {
    return this.request<Agent>('POST', `/v1/agents/${encodeURIComponent(id)}/activate`, { body: reason ? { reason } : {} });
  }

  revokeAgent(id: string, reason?: string): Promise<Agent> {
    return this.request<Agent>('POST', `/v1/agents/${encodeURIComponent(id)}/revoke`, { body: reason ? { reason } : {} });
  }

  // --- agent keys ---------------------------------------------------------------------

  listAgentKeys(agentId: string): Promise<AgentKey[]> {
    return this.request<{ data: AgentKey[] }>('GET', `/v1/agents/${encodeURIComponent(agentId)}/keys`).then((r) => r.data);
  }

  /** Like createAgent: one idempotency key per logical create, so a retry is a replay (without the secret). */
  createAgentKey(agentId: string, input: { public_key?: string }, idempotencyKey: string = randomUUID()): Promise<CreatedAgentKey> {
    return this.request<CreatedAgentKey>('POST', `/v1/agents/${encodeURIComponent(agentId)}/keys`, { body: input, idempotencyKey });
  }

  /** 409 ConflictError when it is the agent's last active key; removing a removed key is a 200. */
  removeAgentKey(agentId: string, kid: string): Promise<AgentKey> {
    return this.request<AgentKey>('DELETE', `/v1/agents/${encodeURIComponent(agentId)}/keys/${encodeURIComponent(kid)}`);
  }

  // --- OAuth (agent credentials, not the API key) ----------------------------------------

  /**
   * POST /v1/oauth/token without the API key. `body` is rebuilt per attempt (an assertion's jti is
   * single-use) and gets the token endpoint URL, the assertion's `aud`.
   */
  requestToken(body: (tokenEndpoint: string) => TokenRequest): Promise<TokenResponse> {
    const url = `${this.endpoint}/v1/oauth/token`;
    return this.request<TokenResponse>('POST', '/v1/oauth/token', { body: () => body(url), anonymous: true });
  }

  /** RFC 7009 revocation by the token itself (no Authorization header). */
  async revokeToken(token: string): Promise<void> {
    await this.request<unknown>('POST', '/v1/oauth/revoke', { body: { token }, anonymous: true });
  }

  listAgentsPage(query: AgentListQuery & { cursor?: string }): Promise<Page<Agent>> {
    return this.request<Page<Agent>>('GET', '/v1/agents', { query: { ...query } });
  }

  /**
   * Every matching agent, following next_cursor to the last page. A full page of agents with
   * metadata near the model's limits can exceed the response cap legitimately, so an oversized
   * page is asked for again with half the limit (the cursor is keyset-based, so nothing is skipped);
   * only a single agent over the cap is an error.
   */
  async *listAgents(query: AgentListQuery = {}): AsyncGenerator<Agent> {
    let cursor: string | undefined;
    let limit = query.limit ?? 200;
    do {
      let page: Page<Agent> | undefined;
      while (!page) {
        try {
          page = await this.listAgentsPage({ ...query, limit, cursor });
        } catch (err) {
          if (!(err instanceof ResponseTooLargeError) || limit <= 1) throw err;
          limit = Math.max(1, Math.floor(limit / 2));
          this.opts.logger?.debug('agent page over the response cap; asking for fewer', { limit });
        }
      }
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }
}

/** OAuth endpoints answer `{error, error_description}` (RFC 6749 §5.2); map it to the API's shape. */
function oauthErrorAsApiError(body: unknown): unknown {
  const o = body as { error?: unknown; error_description?: unknown } | null;
  if (typeof o?.error !== 'string') return body;
  return { error: { code: o.error, message: typeof o.error_description === 'string' ? o.error_description : o.error } };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
