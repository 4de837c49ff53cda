/**
 * The control plane's Prometheus metrics, in one registry per process (not prom-client's global
 * registry: tests run several replicas in one process, and each must count only its own work).
 *
 * Cardinality is bounded by construction: every label value comes from a fixed set declared here
 * (methods, status classes, outcomes, cache names, limiter scopes) or from the application's own
 * route templates (a finite list of strings in the code). No label ever carries an id, a name, a
 * raw path or a credential; callers pass an enum value, never request data.
 *
 * Components that keep their own counters (caches, the LISTEN connection, the database pool) are
 * read at scrape time through `collect` callbacks, so their hot paths only bump plain numbers.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'OTHER'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** The route label of a request that matched no route (404s, probes of unknown paths). */
export const UNMATCHED_ROUTE = 'unmatched';

export const TOKEN_OUTCOMES = [
  'issued',
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'invalid_scope',
  'invalid_target',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  /** The agent's success budget is spent (CERTUSORDO_TOKEN_RATE_LIMIT). */
  'rate_limited',
  /** Over the failure budget of the address or of the agent. */
  'throttled',
  'server_error',
] as const;
export type TokenOutcome = (typeof TOKEN_OUTCOMES)[number];

export const INTROSPECTION_OUTCOMES = ['active', 'inactive'] as const;
export type IntrospectionOutcome = (typeof INTROSPECTION_OUTCOMES)[number];

export const CACHES = ['agent_status', 'session_state', 'revoked_jti', 'api_key', 'unknown_organization', 'unknown_agent', 'unknown_api_key', 'delegation'] as const;
export type CacheName = (typeof CACHES)[number];

/** hit: answered from memory; miss: read the database and cached; bypass: read the database because the cache could not be trusted. */
export interface CacheStats {
  hits: number;
  misses: number;
  bypasses: number;
}

export const newCacheStats = (): CacheStats => ({ hits: 0, misses: 0, bypasses: 0 });

/** The per-API-key limiter's scopes: an API key, an agent token, a client address (failed authentication). */
export const LIMIT_SCOPES = ['api_key', 'agent', 'address'] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];

export const LEASE_RESULTS = ['granted', 'empty', 'error'] as const;
export type LeaseResult = (typeof LEASE_RESULTS)[number];

/** What the LISTEN connection reports (PgListenBus.stats). */
export interface ListenerStats {
  readonly connected: boolean;
  /** Successful connections after the first. */
  readonly reconnects: number;
  /** Times an established connection was lost. */
  readonly losses: number;
  /** How long ago the latest heartbeat that came back was sent (null while disconnected); caches are bypassed from 1 s. */
  readonly lagMs: number | null;
}

/** tarn's pool, as knex exposes it on `knex.client.pool`. */
export interface PoolStats {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  private readonly http: Histogram<'method' | 'route' | 'status_class'>;
  private readonly tokens: Counter<'outcome'>;
  private readonly introspections: Counter<'outcome'>;
  private readonly refusals: Counter<'scope'>;
  private readonly leases: Counter<'result'>;
  private readonly audit: Histogram<'kind'>;
  private processMetrics = false;

  constructor() {
    this.http = new Histogram({
      name: 'certusordo_http_request_duration_seconds',
      help: 'HTTP request latency by route template (the matched Express route, never the raw URL) and status class',
      labelNames: ['method', 'route', 'status_class'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.tokens = new Counter({
      name: 'certusordo_token_requests_total',
      help: 'Token endpoint requests by outcome (issued, or the OAuth error answered)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.introspections = new Counter({
      name: 'certusordo_introspections_total',
      help: 'Successful introspection calls by the answer given (active or inactive)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.refusals = new Counter({
      name: 'certusordo_rate_limit_refusals_total',
      help: 'Requests refused with 429 by the per-caller request limit (CERTUSORDO_RATE_LIMIT), by scope',
      labelNames: ['scope'],
      registers: [this.registry],
    });
    this.leases = new Counter({
      name: 'certusordo_rate_limit_leases_total',
      help: 'Cluster rate limit: slices of a shared budget leased from PostgreSQL, by result',
      labelNames: ['result'],
      registers: [this.registry],
    });
    this.audit = new Histogram({
      name: 'certusordo_audit_append_duration_seconds',
      help: 'Audit append latency inside the mutation transaction (chain-head lock wait included)',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    // Every outcome starts at zero, so a dashboard sees the family before the first event.
    for (const o of TOKEN_OUTCOMES) this.tokens.inc({ outcome: o }, 0);
    for (const o of INTROSPECTION_OUTCOMES) this.introspections.inc({ outcome: o }, 0);
    for (const s of LIMIT_SCOPES) this.refusals.inc({ scope: s }, 0);
  }

  /** Node.js process metrics (CPU, memory, event-loop lag, GC, handles); once per registry. */
  enableProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  observeRequest(method: HttpMethod, route: string, status: number, seconds: number): void {
    this.http.observe({ method, route, status_class: statusClass(status) }, seconds);
  }

  tokenRequest(outcome: TokenOutcome): void {
    this.tokens.inc({ outcome });
  }

  introspection(outcome: IntrospectionOutcome): void {
    this.introspections.inc({ outcome });
  }

  rateLimitRefusal(scope: LimitScope): void {
    this.refusals.inc({ scope });
  }

  rateLimitLease(result: LeaseResult): void {
    this.leases.inc({ result });
  }

  auditAppend(kind: 'single' | 'batch', seconds: number): void {
    this.audit.observe({ kind }, seconds);
  }

  /** Cache lookups by cache and result, read from the caches' own counters at scrape time. */
  watchCaches(caches: Partial<Record<CacheName, CacheStats>>): void {
    const entries = Object.entries(caches) as [CacheName, CacheStats][];
    new Counter({
      name: 'certusordo_cache_lookups_total',
      help: 'Cache lookups by cache and result (hit, miss: read and cached, bypass: read because the invalidation bus was not healthy; unknown_*: ids known not to exist, a hit is a refusal without a read); hit ratio = hit / sum',
      labelNames: ['cache', 'result'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [cache, s] of entries) {
          this.inc({ cache, result: 'hit' }, s.hits);
          this.inc({ cache, result: 'miss' }, s.misses);
          this.inc({ cache, result: 'bypass' }, s.bypasses);
        }
      },
    });
  }

  /** The invalidation bus's LISTEN connection (PostgreSQL; absent on PGlite). */
  watchListener(stats: ListenerStats): void {
    new Gauge({
      name: 'certusordo_listen_connected',
      help: '1 while the LISTEN connection that carries cache invalidations is up (caches are bypassed while 0)',
      registers: [this.registry],
      collect() {
        this.set(stats.connected ? 1 : 0);
      },
    });
    new Counter({
      name: 'certusordo_listen_reconnects_total',
      help: 'LISTEN connections re-established after a loss',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(stats.reconnects);
      },
    });
    new Counter({
      name: 'certusordo_listen_losses_total',
      help: 'Established LISTEN connections lost (network, database restart, a heartbeat that never came back)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(stats.losses);
      },
    });
    new Gauge({
      name: 'certusordo_listen_lag_seconds',
      help: 'Age of the newest proof that the LISTEN connection delivers (a heartbeat it sent itself came back); caches are bypassed from 1 s; absent while disconnected',
      registers: [this.registry],
      collect() {
        this.reset();
        if (stats.lagMs !== null) this.set(stats.lagMs / 1000);
      },
    });
  }

  /** The database connection pool (knex/tarn). */
  watchPool(pool: PoolStats, max: number): void {
    new Gauge({
      name: 'certusordo_db_pool_connections',
      help: 'Database pool: connections in use, idle, and requests waiting for one (pending)',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        this.set({ state: 'used' }, pool.numUsed());
        this.set({ state: 'free' }, pool.numFree());
        this.set({ state: 'pending' }, pool.numPendingAcquires());
      },
    });
    new Gauge({
      name: 'certusordo_db_pool_max',
      help: 'Database pool size limit',
      registers: [this.registry],
      collect() {
        this.set(max);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export function statusClass(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  if (status >= 200) return '2xx';
  return '1xx';
}

const METHODS = new Set<string>(HTTP_METHODS);

export function methodLabel(method: string): HttpMethod {
  return METHODS.has(method) ? (method as HttpMethod) : 'OTHER';
}
