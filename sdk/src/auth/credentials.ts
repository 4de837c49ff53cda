/**
 * Agent-side authentication: OAuth 2.0 client credentials with a private_key_jwt client assertion
 * (RFC 7523) signed by the agent's Ed25519 key — or, for a secretless agent, its workload's platform
 * token (GitHub Actions OIDC, a Kubernetes projected token, a SPIFFE JWT-SVID) — and bounded sessions.
 *
 *   const creds = AgentCredentials.fromSecret(process.env.AGENT_SECRET!, { baseUrl });
 *   const k8s = AgentCredentials.fromPlatformToken(agentId, () => readFile('/var/run/secrets/certusordo/token', 'utf8'));
 *   const token = await creds.getToken({ scope: 'payments:read' });
 *   const forPayments = await creds.getToken({ resource: 'https://payments.example.com' }); // aud = that service
 *
 * Sender-constrained (DPoP, RFC 9449) with one option: every token is bound to a key only this
 * client holds (the agent's own with `dpop: true`, or the key given), and each request carries a
 * fresh proof; `authHeaders(method, url)` returns both headers for a call you make yourself.
 *
 *   const creds = AgentCredentials.fromSecret(secret, { dpop: true });
 *   await fetch(url, { headers: await creds.authHeaders('GET', url, { resource: url }) });
 */
import { resolveBaseUrl } from '../internal/env';
import { randomId } from '../internal/encoding';
import { sessionCreateBody, toAccessToken, toOpenedSession, toSession } from '../internal/mappers';
import type { WireSession, WireTokenResponse } from '../core/wire';
import { path } from '../core/path';
import { Transport, type RequestOptions, type TransportConfig } from '../core/transport';
import type { Fetch, FetchResponse } from '../core/fetch';
import type { AccessToken, OpenedSession, Session, SessionCreateParams } from '../types';
import { jwkThumbprint, parseAgentSecret, publicKeyFromPrivateKey, signJwt } from './keys';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '../../../model/delegation';
import { createDpopProof, dpopKeyFromSeed, type DpopPrivateJwk } from './dpop';
import { isDpopNonceValue } from '../../../model/dpop-nonce';
import { APIError } from '../core/errors';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ASSERTION_LIFETIME_S = 60;
const DEFAULT_REFRESH_MARGIN_MS = 30_000;

/** `now` also times token expiry and client assertions (tests step it); the rest is documented on TransportConfig. */
export interface AgentCredentialsOptions extends Pick<TransportConfig, 'timeoutMs' | 'maxRetries' | 'fetch' | 'sleep' | 'now'> {
  /** Control plane URL. Defaults to `CERTUSORDO_ENDPOINT`, then http://127.0.0.1:8080. */
  baseUrl?: string | undefined;
  /** A cached token is replaced this long before it expires (default 30 s). */
  refreshMarginMs?: number | undefined;
  /**
   * DPoP (RFC 9449): `true` binds every token to the agent's own key, a private JWK (see
   * `generateDpopKey`) to that key. Tokens are then `token_type: DPoP`, useless without the key;
   * use `authHeaders` to call services with them. Default: bearer tokens.
   */
  dpop?: boolean | DpopPrivateJwk | undefined;
}

export interface AgentKeyInput extends AgentCredentialsOptions {
  agentId: string;
  /** The 32-byte Ed25519 private key (seed). */
  privateKey: Uint8Array;
}

/**
 * Where a secretless agent's platform token comes from: a function called for every token request,
 * so a token file that the platform rewrites (a Kubernetes projected token rotates at ~80 % of its
 * lifetime) is read again each time. The SDK does no file I/O itself (it runs in browsers and edge
 * runtimes): pass `() => readFile(path, 'utf8')`.
 */
export type PlatformTokenSource = () => string | Promise<string>;

export interface GetTokenParams {
  /** Scopes to request (space-separated or a list); default: all of the agent's scopes. */
  scope?: string | string[];
  /**
   * The service(s) the token is for (RFC 8707 `resource`: absolute URIs without a fragment). The
   * token's `aud` is then that value (a list for several), so a relying service can require tokens
   * minted for it. Default: none, and `aud` is the organization's issuer.
   */
  resource?: string | string[];
  /** Skip the cache. */
  forceRefresh?: boolean;
}

/** What `authHeaders` may be told besides the token's scopes and resources. */
export interface AuthHeadersParams extends GetTokenParams {
  /** A token to present instead of one from `getToken` (e.g. a session's token). */
  accessToken?: string | undefined;
  /**
   * The resource server's DPoP nonce (its `DPoP-Nonce` header). Default: the last one that
   * server's origin sent to `fetch`, if any.
   */
  nonce?: string | undefined;
}

/** A call made by `AgentCredentials.fetch`: the request, and which token to present. */
export interface AgentFetchInit extends AuthHeadersParams {
  method?: string | undefined;
  headers?: Record<string, string> | undefined;
  body?: string | undefined;
  signal?: AbortSignal | undefined;
}

export class AgentCredentials {
  readonly agentId: string;
  readonly baseUrl: string;
  /** The agent's Ed25519 seed; null for a secretless agent (it presents `#platformToken` instead). */
  readonly #privateKey: Uint8Array | null;
  readonly #platformToken: PlatformTokenSource | null;
  readonly #transport: Transport;
  readonly #refreshMarginMs: number;
  readonly #now: () => number;
  #kid: Promise<string> | undefined;
  /** Keyed by the normalized scope and resource set. */
  readonly #cache = new Map<string, AccessToken>();
  readonly #inflight = new Map<string, Promise<AccessToken>>();
  /** The DPoP key, when tokens are sender-constrained. */
  readonly #dpopKey: Promise<DpopPrivateJwk> | undefined;
  /** The token endpoint's latest DPoP nonce. */
  #tokenEndpointNonce: string | undefined;
  /** The latest DPoP nonce each service's origin sent (RFC 9449 §9), bounded. */
  readonly #serviceNonces = new Map<string, string>();
  readonly #fetch: Fetch;

  private constructor(input: AgentCredentialsOptions & { agentId: string; privateKey?: Uint8Array; platformToken?: PlatformTokenSource }) {
    if (input.privateKey !== undefined && input.privateKey.length !== 32) throw new TypeError('privateKey must be the 32-byte Ed25519 seed');
    this.agentId = input.agentId;
    this.#privateKey = input.privateKey !== undefined ? Uint8Array.from(input.privateKey) : null;
    this.#platformToken = input.platformToken ?? null;
    this.#transport = new Transport({
      baseUrl: resolveBaseUrl(input.baseUrl),
      timeoutMs: input.timeoutMs,
      maxRetries: input.maxRetries,
      fetch: input.fetch,
      sleep: input.sleep,
      now: input.now,
    });
    this.baseUrl = this.#transport.baseUrl;
    this.#refreshMarginMs = input.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
    this.#now = input.now ?? Date.now;
    const f = input.fetch ?? ((url: string, init: Parameters<Fetch>[1]) => globalThis.fetch(url, init));
    this.#fetch = f;
    const dpop = input.dpop;
    const seed = this.#privateKey;
    if (dpop === true && !seed) throw new TypeError('dpop: true binds tokens to the agent\'s own key, and a secretless agent has none: pass a DPoP key (generateDpopKey())');
    this.#dpopKey = dpop === true ? dpopKeyFromSeed(seed!) : dpop ? Promise.resolve(dpop) : undefined;
  }

  /** Whether tokens are DPoP-bound (the `dpop` option). */
  get dpop(): boolean {
    return this.#dpopKey !== undefined;
  }

  /**
   * The headers that authorize one request to `url` with `method`: `Authorization: Bearer …`, or
   * with DPoP `Authorization: DPoP …` and a `DPoP` proof made for this request (call it again
   * for every request, retries included: a proof is single-use). A `url` off the control plane
   * needs `resource` (the token is then issued for that service alone) or an `accessToken` of your
   * choosing: a token without a resource is the control plane's, and the service it was sent to
   * could use it there as the agent (token passthrough, which MCP authorization forbids).
   */
  async authHeaders(method: string, url: string, params: AuthHeadersParams = {}): Promise<Record<string, string>> {
    const { accessToken, nonce, ...tokenParams } = params;
    if (accessToken === undefined && !normalizeResources(tokenParams.resource).some(Boolean) && originOf(url) !== originOf(this.baseUrl)) {
      throw new TypeError(
        `Tokens without a resource are for the control plane (aud = the organization's issuer); to call ${originOf(url)}, ` +
          'pass resource: <its resource URL> so the token is issued for it alone, or accessToken: for a token you chose',
      );
    }
    // A token of ours is DPoP-bound if the server says so (a server without DPoP issues bearer tokens).
    const token = accessToken ?? (await this.getAccessToken(tokenParams));
    const value = typeof token === 'string' ? token : token.accessToken;
    if (!this.#dpopKey || (typeof token !== 'string' && token.tokenType.toLowerCase() !== 'dpop')) return { authorization: `Bearer ${value}` };
    const proof = await createDpopProof({
      key: await this.#dpopKey, htm: method.toUpperCase(), htu: url, accessToken: value, nonce: nonce ?? this.#serviceNonces.get(originOf(url)), now: this.#now(),
    });
    return { authorization: `DPoP ${value}`, dpop: proof };
  }

  /**
   * Calls a service with this agent's token (`authHeaders` per attempt), through the `fetch` of
   * the options (default the global one). A service that asks for its DPoP nonce (401
   * `use_dpop_nonce` with a `DPoP-Nonce` header) gets the call once more with it, and later
   * calls use it; resolves with the response, whatever its status. Redirects are not followed: a
   * 3xx comes back as it is (in a browser, as an opaque-redirect response), since the agent's
   * token and proof must not go wherever a `Location` points; call its target yourself if you trust it.
   */
  async fetch(url: string, init: AgentFetchInit = {}): Promise<FetchResponse> {
    const { method: m, headers, body, signal, ...auth } = init;
    const method = (m ?? 'GET').toUpperCase();
    const send = async (): Promise<FetchResponse> => {
      const all = { ...headers, ...(await this.authHeaders(method, url, auth)) };
      const response = await this.#fetch(url, { method, headers: all, ...(body === undefined ? {} : { body }), signal: signal ?? new AbortController().signal, redirect: 'manual' });
      const nonce = response.headers.get('dpop-nonce');
      if (isDpopNonceValue(nonce) && this.#dpopKey) this.#rememberNonce(originOf(url), nonce);
      return response;
    };
    const first = await send();
    const askedForNonce = first.status === 401 && /error="use_dpop_nonce"/.test(first.headers.get('www-authenticate') ?? '');
    if (!askedForNonce || auth.nonce !== undefined || !first.headers.get('dpop-nonce')) return first;
    await first.text(); // release the connection before the retry
    return send();
  }

  #rememberNonce(origin: string, nonce: string): void {
    if (!this.#serviceNonces.has(origin) && this.#serviceNonces.size >= MAX_SERVICE_NONCES) this.#serviceNonces.clear();
    this.#serviceNonces.set(origin, nonce);
  }

  /** From the `cos_<agent id>_<seed>` secret returned when the agent (or key) was created. */
  static fromSecret(secret: string, options: AgentCredentialsOptions = {}): AgentCredentials {
    const { agentId, privateKey } = parseAgentSecret(secret);
    return new AgentCredentials({ ...options, agentId, privateKey });
  }

  /** From a key you generated yourself and registered as the agent's `publicKey`. */
  static fromKey(input: AgentKeyInput): AgentCredentials {
    return new AgentCredentials(input);
  }

  /**
   * A secretless agent (federated credentials): `platformToken` returns the workload's platform
   * token, whose `aud` must be the agent's credential audience (by default the organization's issuer,
   * `<baseUrl>/orgs/<organization id>`). Called again for every token request.
   */
  static fromPlatformToken(agentId: string, platformToken: PlatformTokenSource, options: AgentCredentialsOptions = {}): AgentCredentials {
    return new AgentCredentials({ ...options, agentId, platformToken });
  }

  /** The key id (RFC 7638 thumbprint) sent in the assertion header. */
  kid(): Promise<string> {
    const key = this.#privateKey;
    if (!key) return Promise.reject(new TypeError('A secretless agent (fromPlatformToken) has no key'));
    this.#kid ??= publicKeyFromPrivateKey(key).then(jwkThumbprint);
    return this.#kid;
  }

  /** A bearer access token, from the cache while it has more than `refreshMarginMs` left. */
  async getToken(params: GetTokenParams = {}): Promise<string> {
    return (await this.getAccessToken(params)).accessToken;
  }

  /** Like `getToken`, with the expiry and granted scope. Concurrent callers share one request. */
  async getAccessToken(params: GetTokenParams = {}): Promise<AccessToken> {
    const scope = normalizeScope(params.scope);
    const resources = normalizeResources(params.resource);
    const key = JSON.stringify([scope, [...resources].sort()]);
    const cached = this.#cache.get(key);
    if (!params.forceRefresh && cached && cached.expiresAt.getTime() - this.#refreshMarginMs > this.#now()) return cached;
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#requestToken(scope, resources).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    const token = await pending;
    this.#cache.set(key, token);
    return token;
  }

  /**
   * Token exchange (RFC 8693): this agent, listed in the subject agent's `may_act`, exchanges an
   * access token of the subject (one it received with a call it serves) for a token that acts for
   * the subject — `sub` the subject, `act.sub` this agent — instead of passing the subject's token
   * on. Scope: within the subject token's and this agent's (default: all they share); `resource`
   * as for `getToken`. Not cached: each subject token gets its own.
   */
  async exchangeToken(subjectToken: string, params: Omit<GetTokenParams, 'forceRefresh'> = {}): Promise<AccessToken> {
    return this.#requestToken(normalizeScope(params.scope), normalizeResources(params.resource), [
      ['grant_type', TOKEN_EXCHANGE_GRANT_TYPE],
      ['subject_token', subjectToken],
      ['subject_token_type', ACCESS_TOKEN_TYPE],
    ]);
  }

  /** Forgets cached tokens (e.g. after the server answered 401 to one). */
  clearTokenCache(): void {
    this.#cache.clear();
  }

  /**
   * Opens a bounded session (scopes ⊆ the agent's, a TTL and an operation budget) and returns its
   * own access token.
   */
  async openSession(params: SessionCreateParams, options?: RequestOptions): Promise<OpenedSession> {
    const wire = await this.#transport.request<WireSession>({
      method: 'POST',
      path: '/v1/sessions',
      body: sessionCreateBody(params),
      authorize: (method, url) => this.authHeaders(method, url),
      idempotent: true,
      options,
    });
    return toOpenedSession(wire);
  }

  /**
   * A new token for one of this agent's open sessions. A session's token expires with the access
   * token it was minted from at the latest, while the session may last longer: renew it before its
   * `exp`. The new token is minted from this agent's current access token (`getToken`) and bounded
   * by it; the server refuses a session that is over (`ForbiddenError`, e.g. its opener was revoked).
   */
  async renewSessionToken(sessionId: string, options?: RequestOptions): Promise<OpenedSession> {
    const wire = await this.#transport.request<WireSession>({
      method: 'POST',
      path: path`/v1/sessions/${sessionId}/token`,
      bearer: () => this.getToken(),
      options,
    });
    return toOpenedSession(wire);
  }

  /** One of this agent's own sessions (another agent's is a `NotFoundError`). */
  async getSession(sessionId: string, options?: RequestOptions): Promise<Session> {
    const wire = await this.#transport.request<WireSession>({
      method: 'GET',
      path: path`/v1/sessions/${sessionId}`,
      authorize: (method, url) => this.authHeaders(method, url),
      options,
    });
    return toSession(wire);
  }

  /**
   * Ends one of this agent's own sessions when its work is done (idempotent): the session's token
   * becomes inactive at once and `endReason` is `ended_by_agent`.
   */
  async endSession(sessionId: string, options?: RequestOptions): Promise<Session> {
    const wire = await this.#transport.request<WireSession>({
      method: 'DELETE',
      path: path`/v1/sessions/${sessionId}`,
      authorize: (method, url) => this.authHeaders(method, url),
      options,
    });
    return toSession(wire);
  }

  /**
   * Gives up a token (RFC 7009): an access token from `getToken`, or a session's token. The request
   * carries no credential, since holding the token proves the right to revoke it. The token is also
   * dropped from this object's cache, so the next `getToken` fetches a new one. Without an
   * argument, revokes every cached token.
   */
  async revokeToken(token?: string, options?: RequestOptions): Promise<void> {
    const tokens = token !== undefined ? [token] : [...new Set([...this.#cache.values()].map((t) => t.accessToken))];
    for (const t of tokens) {
      await this.#transport.request<Record<string, never>>({ method: 'POST', path: '/v1/oauth/revoke', form: { token: t }, bearer: '', options });
      for (const [key, cached] of this.#cache) if (cached.accessToken === t) this.#cache.delete(key);
    }
  }

  /**
   * The client assertion JWT (RFC 7523 §3): signed with the agent's key, or the platform token as it
   * reads now; exposed for callers that talk to the token endpoint themselves.
   */
  async createClientAssertion(now: number = this.#now()): Promise<string> {
    if (this.#platformToken) return (await this.#platformToken()).trim();
    const iat = Math.floor(now / 1000);
    return signJwt(
      { alg: 'EdDSA', typ: 'JWT', kid: await this.kid() },
      {
        iss: this.agentId,
        sub: this.agentId,
        aud: this.#transport.url('/v1/oauth/token'),
        jti: randomId(),
        iat,
        exp: iat + ASSERTION_LIFETIME_S,
      },
      this.#privateKey!,
    );
  }

  async #requestToken(scope: string, resources: string[], grant: Array<[string, string]> = [['grant_type', 'client_credentials']]): Promise<AccessToken> {
    const sent = this.#tokenEndpointNonce;
    try {
      return await this.#tokenRequest(scope, resources, grant);
    } catch (err) {
      // RFC 9449 §8: the server wants its nonce in the proof; it sent a new one, so try once more with it.
      const nonce = err instanceof APIError && err.code === 'use_dpop_nonce' ? err.headers?.get('dpop-nonce') : null;
      if (!isDpopNonceValue(nonce) || nonce === sent) throw err;
      this.#tokenEndpointNonce = nonce;
      return this.#tokenRequest(scope, resources, grant);
    }
  }

  async #tokenRequest(scope: string, resources: string[], grant: Array<[string, string]>): Promise<AccessToken> {
    const dpopKey = this.#dpopKey;
    const wire = await this.#transport.request<WireTokenResponse>({
      method: 'POST',
      path: '/v1/oauth/token',
      // A function, so each retry signs a fresh assertion (new jti), or reads the platform token again.
      form: async (): Promise<Array<[string, string]>> => [
        ...grant,
        // A platform token names its workload, not the agent: client_id says which agent.
        ...(this.#platformToken ? [['client_id', this.agentId] as [string, string]] : []),
        ['client_assertion_type', CLIENT_ASSERTION_TYPE],
        ['client_assertion', await this.createClientAssertion()],
        ...(scope ? [['scope', scope] as [string, string]] : []),
        ...resources.map((r): [string, string] => ['resource', r]),
      ],
      bearer: '',
      // Every answer may carry the server's newest nonce (RFC 9449 §8.2): the next proof uses it.
      onResponse: (headers) => {
        const nonce = headers.get('dpop-nonce');
        if (dpopKey && isDpopNonceValue(nonce)) this.#tokenEndpointNonce = nonce;
      },
      ...(dpopKey && {
        authorize: async (method: string, url: string) => ({
          dpop: await createDpopProof({ key: await dpopKey, htm: method, htu: url, nonce: this.#tokenEndpointNonce, now: this.#now() }),
        }),
      }),
    });
    return toAccessToken(wire, this.#now());
  }
}

const MAX_SERVICE_NONCES = 1000;

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** Distinct, in the caller's order (the order of `aud` when there are several). */
function normalizeResources(resource: string | string[] | undefined): string[] {
  return [...new Set(typeof resource === 'string' ? [resource] : (resource ?? []))];
}

function normalizeScope(scope: string | string[] | undefined): string {
  const list = typeof scope === 'string' ? scope.split(/\s+/) : (scope ?? []);
  return [...new Set(list.filter(Boolean))].sort().join(' ');
}
