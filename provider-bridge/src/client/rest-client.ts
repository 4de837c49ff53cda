/**
 * The provider's REST client: the control plane's agent, key, federated credential and OAuth calls the resources need,
 * on the client core the SDK and the CLI use too (sdk/src/core: transport, retry policy, errors,
 * wire types). What is the provider's own: the node:http fetch with its body cap and loopback-only
 * resolution (./node-fetch.ts), the endpoint policy (./endpoint.ts), the stop signal (StopProvider)
 * as every request's cancellation, scrubbing of echoed credentials, retry logging, and batched reads.
 */
import { randomUUID } from 'node:crypto';
import { ResponseTooLargeError } from '../../../sdk/src/core/errors';
import type { Fetch } from '../../../sdk/src/core/fetch';
import { path } from '../../../sdk/src/core/path';
import { Transport, type Sleep, type TransportRequest } from '../../../sdk/src/core/transport';
import type {
  WireAgent as Agent,
  WireAgentCreate as AgentCreate,
  WireAgentDelegation as AgentDelegation,
  WireAgentKey as AgentKey,
  WireAgentKeyCreate as AgentKeyCreate,
  WireAgentListQuery as AgentListQuery,
  WireAgentUpdate as AgentPatch,
  WireFederatedCredential as FederatedCredential,
  WireFederatedCredentialCreate as FederatedCredentialCreate,
  WireList,
  WirePage as Page,
  WireTokenRequest as TokenRequest,
  WireTokenResponse as TokenResponse,
} from '../../../sdk/src/core/wire';
import type { Logger } from '../log';
import { displayEndpoint, insecureEndpointError, needsInsecureOptIn } from './endpoint';
import { nodeFetch } from './node-fetch';
import { scrubSecrets } from './scrub';
import { BatchReader } from './batch-reader';
import { LIST_IDS_MAX, LIST_PAGE_MAX } from '../../../model/limits';

/** Most ids in one `GET /v1/agents?id=…`. */
export const MAX_IDS_PER_LIST = LIST_IDS_MAX;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * More retries than the core's default (2): an apply runs unattended, often hundreds of operations
 * at -parallelism 10 that can meet the per-key rate limit or a rolling restart of the control
 * plane, and a failed apply leaves work half done for a person to resume, which costs far more
 * than waiting. With the core's backoff (full jitter, ceilings 0.5 s doubling to 8 s) five retries
 * wait about 8 s on average, 15.5 s at most, unless the server asks for longer with Retry-After.
 */
export const PROVIDER_MAX_RETRIES = 5;
/**
 * Shorter than the core's default (60 s): every control-plane call the provider makes is small,
 * and terraform shows nothing while a provider call hangs.
 */
export const PROVIDER_TIMEOUT_MS = 30_000;

export interface RestClientOptions {
  endpoint: string;
  apiKey: string;
  /** Per-attempt timeout (default PROVIDER_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Default PROVIDER_MAX_RETRIES. */
  maxRetries?: number;
  /** Aborted when Terraform sends StopProvider: cancels in-flight requests and pending retries. */
  stopSignal?: AbortSignal;
  logger?: Logger;
  userAgent?: string;
  /** Injected in tests to avoid real sleeping. */
  sleep?: Sleep;
  /** Defaults to node:http with keep-alive (./node-fetch.ts); tests pass a wrapped fetch to lose responses on purpose. */
  fetch?: Fetch;
  /** Allows plain http to hosts that are not loopback (the provider's `insecure` opt-in). */
  insecure?: boolean;
  /** Response body cap per request for the default fetch; defaults to node-fetch's MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
  /** Batched findAgent lists outstanding at once (default 1: reads arriving meanwhile join the next batch). */
  readBatchesInFlight?: number;
}

export class RestClient {
  private readonly transport: Transport;
  private readonly refusal: Error | undefined;
  private reader: BatchReader<Agent> | undefined;

  constructor(private readonly opts: RestClientOptions) {
    const base = new URL(opts.endpoint);
    // Userinfo is never sent (the key goes in the Authorization header) and never printed.
    base.username = '';
    base.password = '';
    this.refusal = needsInsecureOptIn(base) && !opts.insecure ? insecureEndpointError(`${displayEndpoint(new URL(base.origin))} is not a loopback host`) : undefined;
    const logger = opts.logger;
    this.transport = new Transport({
      baseUrl: base.toString(),
      apiKey: opts.apiKey,
      timeoutMs: opts.timeoutMs ?? PROVIDER_TIMEOUT_MS,
      maxRetries: opts.maxRetries ?? PROVIDER_MAX_RETRIES,
      fetch: opts.fetch ?? nodeFetch({ insecure: opts.insecure, maxResponseBytes: opts.maxResponseBytes }),
      sleep: opts.sleep,
      defaultHeaders: { 'user-agent': opts.userAgent ?? 'terraform-provider-certusordo' },
      // Network-supplied text loses this client's key (and anything key-shaped) before it is shown.
      redact: (text) => scrubSecrets(text, [opts.apiKey]),
      onRetry: logger
        ? (e) => logger.debug('retrying control plane request', { method: e.method, path: e.path, attempt: e.attempt, wait_ms: e.delayMs, reason: e.error.message })
        : undefined,
    });
  }

  /** Every call: refused before sending to an endpoint the policy forbids, cancelled by StopProvider. */
  private request<T>(req: Omit<TransportRequest, 'options'>, idempotencyKey?: string): Promise<T> {
    if (this.refusal) return Promise.reject(this.refusal);
    return this.transport.request<T>({
      ...req,
      options: { ...(this.opts.stopSignal ? { signal: this.opts.stopSignal } : {}), ...(idempotencyKey ? { idempotencyKey } : {}) },
    });
  }

  // --- agents -------------------------------------------------------------------------

  /** The idempotency key is made by the caller, once, before any retry: a retried create is a replay. */
  createAgent(input: AgentCreate, idempotencyKey: string = randomUUID()): Promise<Agent> {
    return this.request<Agent>({ method: 'POST', path: '/v1/agents', body: input, idempotent: true }, idempotencyKey);
  }

  getAgent(id: string): Promise<Agent> {
    return this.request<Agent>({ method: 'GET', path: path`/v1/agents/${id}` });
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
    return this.request<Agent>({ method: 'PATCH', path: path`/v1/agents/${id}`, body: patch });
  }

  suspendAgent(id: string, reason?: string): Promise<Agent> {
    return this.transition(id, 'suspend', reason);
  }

  activateAgent(id: string, reason?: string): Promise<Agent> {
    return this.transition(id, 'activate', reason);
  }

  revokeAgent(id: string, reason?: string): Promise<Agent> {
    return this.transition(id, 'revoke', reason);
  }

  private transition(id: string, action: 'suspend' | 'activate' | 'revoke', reason: string | undefined): Promise<Agent> {
    return this.request<Agent>({ method: 'POST', path: path`/v1/agents/${id}/${action}`, body: reason ? { reason } : {} });
  }

  // --- agent keys ---------------------------------------------------------------------

  listAgentKeys(agentId: string): Promise<AgentKey[]> {
    return this.request<WireList<AgentKey>>({ method: 'GET', path: path`/v1/agents/${agentId}/keys` }).then((r) => r.data);
  }

  /** Like createAgent: one idempotency key per logical create, so a retry is a replay (without the secret). */
  createAgentKey(agentId: string, input: AgentKeyCreate, idempotencyKey: string = randomUUID()): Promise<AgentKey> {
    return this.request<AgentKey>({ method: 'POST', path: path`/v1/agents/${agentId}/keys`, body: input, idempotent: true }, idempotencyKey);
  }

  /** 409 ConflictError when it is the agent's last active key; removing a removed key is a 200. */
  removeAgentKey(agentId: string, kid: string): Promise<AgentKey> {
    return this.request<AgentKey>({ method: 'DELETE', path: path`/v1/agents/${agentId}/keys/${kid}` });
  }

  // --- federated credentials ----------------------------------------------------------

  /** Active and revoked ones; callers keep the active. */
  listFederatedCredentials(agentId: string): Promise<FederatedCredential[]> {
    return this.request<WireList<FederatedCredential>>({ method: 'GET', path: path`/v1/agents/${agentId}/federated-credentials` }).then((r) => r.data);
  }

  /** One idempotency key per logical create; 409 ConflictError for a duplicate or a 21st. */
  createFederatedCredential(agentId: string, input: FederatedCredentialCreate, idempotencyKey: string = randomUUID()): Promise<FederatedCredential> {
    return this.request<FederatedCredential>({ method: 'POST', path: path`/v1/agents/${agentId}/federated-credentials`, body: input, idempotent: true }, idempotencyKey);
  }

  /** 409 ConflictError when it is the agent's last active credential and it has no active key; a removed one is a 200. */
  removeFederatedCredential(agentId: string, credentialId: string): Promise<FederatedCredential> {
    return this.request<FederatedCredential>({ method: 'DELETE', path: path`/v1/agents/${agentId}/federated-credentials/${credentialId}` });
  }

  // --- delegations (one entry of an agent's may_act) --------------------------------------

  /** Granting an existing pair again is a 200 with the same grant. */
  grantDelegation(subjectId: string, actorId: string): Promise<AgentDelegation> {
    return this.request<AgentDelegation>({ method: 'PUT', path: path`/v1/agents/${subjectId}/delegations/${actorId}` });
  }

  /** 404 NotFoundError when the subject's may_act does not list the actor. */
  getDelegation(subjectId: string, actorId: string): Promise<AgentDelegation> {
    return this.request<AgentDelegation>({ method: 'GET', path: path`/v1/agents/${subjectId}/delegations/${actorId}` });
  }

  /** 404 NotFoundError when it was not listed. */
  removeDelegation(subjectId: string, actorId: string): Promise<AgentDelegation> {
    return this.request<AgentDelegation>({ method: 'DELETE', path: path`/v1/agents/${subjectId}/delegations/${actorId}` });
  }

  // --- OAuth (agent credentials, not the API key) ----------------------------------------

  /**
   * POST /v1/oauth/token without the API key (bearer ''). `body` is rebuilt per attempt (an
   * assertion's jti is single-use) and gets the token endpoint URL, the assertion's `aud`.
   */
  requestToken(body: (tokenEndpoint: string) => TokenRequest): Promise<TokenResponse> {
    const url = this.transport.url('/v1/oauth/token');
    return this.request<TokenResponse>({ method: 'POST', path: '/v1/oauth/token', body: () => body(url), bearer: '' });
  }

  /** RFC 7009 revocation by the token itself (no Authorization header). */
  async revokeToken(token: string): Promise<void> {
    await this.request<unknown>({ method: 'POST', path: '/v1/oauth/revoke', body: { token }, bearer: '' });
  }

  listAgentsPage(query: AgentListQuery): Promise<Page<Agent>> {
    return this.request<Page<Agent>>({ method: 'GET', path: '/v1/agents', query: { ...query } });
  }

  /**
   * Every matching agent, following next_cursor to the last page. A full page of agents with
   * metadata near the model's limits can exceed the response cap legitimately, so an oversized
   * page is asked for again with half the limit (the cursor is keyset-based, so nothing is skipped);
   * only a single agent over the cap is an error.
   */
  async *listAgents(query: Omit<AgentListQuery, 'cursor'> = {}): AsyncGenerator<Agent> {
    let cursor: string | undefined;
    let limit = query.limit ?? LIST_PAGE_MAX;
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
