/**
 * Agent-side authentication: OAuth 2.0 client credentials with a private_key_jwt client assertion
 * (RFC 7523) signed by the agent's Ed25519 key, and bounded sessions.
 *
 *   const creds = AgentCredentials.fromSecret(process.env.AGENT_SECRET!, { baseUrl });
 *   const token = await creds.getToken({ scope: 'payments:read' });
 *   const forPayments = await creds.getToken({ resource: 'https://payments.example.com' }); // aud = that service
 */
import { resolveBaseUrl } from '../internal/env';
import { randomId } from '../internal/encoding';
import { sessionCreateBody, toAccessToken, toOpenedSession, toSession } from '../internal/mappers';
import type { WireSession, WireTokenResponse } from '../core/wire';
import { path } from '../core/path';
import { Transport, type RequestOptions, type TransportConfig } from '../core/transport';
import type { AccessToken, OpenedSession, Session, SessionCreateParams } from '../types';
import { jwkThumbprint, parseAgentSecret, publicKeyFromPrivateKey, signJwt } from './keys';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '../../../model/delegation';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ASSERTION_LIFETIME_S = 60;
const DEFAULT_REFRESH_MARGIN_MS = 30_000;

/** `now` also times token expiry and client assertions (tests step it); the rest is documented on TransportConfig. */
export interface AgentCredentialsOptions extends Pick<TransportConfig, 'timeoutMs' | 'maxRetries' | 'fetch' | 'sleep' | 'now'> {
  /** Control plane URL. Defaults to `CERTUSORDO_ENDPOINT`, then http://127.0.0.1:8080. */
  baseUrl?: string | undefined;
  /** A cached token is replaced this long before it expires (default 30 s). */
  refreshMarginMs?: number | undefined;
}

export interface AgentKeyInput extends AgentCredentialsOptions {
  agentId: string;
  /** The 32-byte Ed25519 private key (seed). */
  privateKey: Uint8Array;
}

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

export class AgentCredentials {
  readonly agentId: string;
  readonly baseUrl: string;
  readonly #privateKey: Uint8Array;
  readonly #transport: Transport;
  readonly #refreshMarginMs: number;
  readonly #now: () => number;
  #kid: Promise<string> | undefined;
  /** Keyed by the normalized scope and resource set. */
  readonly #cache = new Map<string, AccessToken>();
  readonly #inflight = new Map<string, Promise<AccessToken>>();

  private constructor(input: AgentKeyInput) {
    if (input.privateKey.length !== 32) throw new TypeError('privateKey must be the 32-byte Ed25519 seed');
    this.agentId = input.agentId;
    this.#privateKey = Uint8Array.from(input.privateKey);
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

  /** The key id (RFC 7638 thumbprint) sent in the assertion header. */
  kid(): Promise<string> {
    this.#kid ??= publicKeyFromPrivateKey(this.#privateKey).then(jwkThumbprint);
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
      bearer: () => this.getToken(),
      idempotent: true,
      options,
    });
    return toOpenedSession(wire);
  }

  /** One of this agent's own sessions (another agent's is a `NotFoundError`). */
  async getSession(sessionId: string, options?: RequestOptions): Promise<Session> {
    const wire = await this.#transport.request<WireSession>({
      method: 'GET',
      path: path`/v1/sessions/${sessionId}`,
      bearer: () => this.getToken(),
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
      bearer: () => this.getToken(),
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

  /** The client assertion JWT (RFC 7523 §3); exposed for callers that talk to the token endpoint themselves. */
  async createClientAssertion(now: number = this.#now()): Promise<string> {
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
      this.#privateKey,
    );
  }

  async #requestToken(scope: string, resources: string[], grant: Array<[string, string]> = [['grant_type', 'client_credentials']]): Promise<AccessToken> {
    const wire = await this.#transport.request<WireTokenResponse>({
      method: 'POST',
      path: '/v1/oauth/token',
      // A function, so each retry signs a fresh assertion (new jti): the server rejects replays.
      form: async (): Promise<Array<[string, string]>> => [
        ...grant,
        ['client_assertion_type', CLIENT_ASSERTION_TYPE],
        ['client_assertion', await this.createClientAssertion()],
        ...(scope ? [['scope', scope] as [string, string]] : []),
        ...resources.map((r): [string, string] => ['resource', r]),
      ],
      bearer: '',
    });
    return toAccessToken(wire, this.#now());
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
