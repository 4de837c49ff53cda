import { ConfigurationError } from './core/errors';
import { toIntrospection } from './internal/mappers';
import { readEnv, resolveBaseUrl } from './internal/env';
import { Transport, type RequestOptions, type TransportConfig } from './core/transport';
import { Agents } from './resources/agents';
import { ApiKeys } from './resources/api-keys';
import { AuditEvents } from './resources/audit-events';
import { Sessions } from './resources/sessions';
import type { TokenIntrospection } from './types';

export { DEFAULT_BASE_URL } from './internal/env';

/** The transport settings a client passes through (documented on TransportConfig). */
export interface ClientOptions extends Pick<TransportConfig, 'timeoutMs' | 'maxRetries' | 'fetch' | 'defaultHeaders' | 'sleep' | 'now'> {
  /** Organization API key (`aa_…`). Defaults to `CERTUSORDO_API_KEY`. */
  apiKey?: string | undefined;
  /** Control plane URL. Defaults to `CERTUSORDO_ENDPOINT`, then http://127.0.0.1:8080. */
  baseUrl?: string | undefined;
}

/** Admin client of the CertusOrdo control plane. */
export class CertusOrdoClient {
  readonly agents: Agents;
  readonly apiKeys: ApiKeys;
  readonly auditEvents: AuditEvents;
  readonly sessions: Sessions;
  readonly baseUrl: string;
  readonly #transport: Transport;

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? readEnv('CERTUSORDO_API_KEY');
    if (!apiKey) {
      throw new ConfigurationError('no API key: pass `apiKey` or set CERTUSORDO_API_KEY');
    }
    this.#transport = new Transport({
      baseUrl: resolveBaseUrl(options.baseUrl),
      apiKey,
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      fetch: options.fetch,
      defaultHeaders: options.defaultHeaders,
      sleep: options.sleep,
      now: options.now,
    });
    this.baseUrl = this.#transport.baseUrl;
    this.agents = new Agents(this.#transport);
    this.apiKeys = new ApiKeys(this.#transport);
    this.auditEvents = new AuditEvents(this.#transport);
    this.sessions = new Sessions(this.#transport);
  }

  /**
   * RFC 7662 token introspection, for relying services that prefer asking the control plane over
   * verifying JWTs locally (see `verifyAccessToken`): it also sees revocations and session limits.
   */
  async introspect(token: string, options?: RequestOptions): Promise<TokenIntrospection> {
    const wire = await this.#transport.request<Record<string, unknown>>({
      method: 'POST',
      path: '/v1/oauth/introspect',
      form: { token },
      options,
    });
    return toIntrospection(wire);
  }

  /**
   * RFC 7009 token revocation with this client's API key (`operator` or `admin`): the token is
   * inactive at once on every replica. Resolves for unknown, expired or foreign tokens too (the
   * server answers 200 to every well-formed request, as the RFC requires).
   */
  async revokeToken(token: string, options?: RequestOptions): Promise<void> {
    await this.#transport.request<Record<string, never>>({ method: 'POST', path: '/v1/oauth/revoke', form: { token }, options });
  }
}
