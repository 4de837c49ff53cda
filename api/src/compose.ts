/**
 * The composition root of the control plane: builds every service once, the process's one
 * per-caller RequestLimiter, its one API-key authenticator (cached on PostgreSQL) and the one
 * Authenticator in front of every route, wires the services to each other and to the invalidation
 * bus (LISTEN on PostgreSQL, in-process on PGlite), runs the maintenance tick, and mounts every
 * area's route manifest (routes/index.ts) on the Express app (app.ts). The OpenAPI document is
 * generated from the same manifests.
 *
 * Wiring between services: an agent's suspension or revocation ends its sessions in the same
 * transaction; a revoked token takes the sessions it opened with it; caches of this process drop
 * after commit, and other replicas hear of it on the bus.
 */
import type { Express } from 'express';
import type { Config } from './config';
import type { Database } from './db/connect';
import type { Logger } from './logger';
import type { MasterKey } from './crypto/master-key';
import type { Metrics } from './metrics/metrics';
import type { RequestListener } from 'node:http';
import { createApp } from './app';
import { DatabaseProbe } from './db/readiness';
import { ClusterRequestLimiter, LimiterObserver, LocalRequestLimiter, RequestLimiter } from './middleware/rate-limit';
import { Authenticator } from './middleware/auth';
import { openApiDocument, OpenApiDocument } from './openapi';
import { EndpointLimits } from './oauth/token-limits';
import { controlPlaneRoutes, ControlPlaneRouteDeps } from './routes';
import type { Lifecycle } from './routes/health';
import { createServices, Services } from './services';
import { SessionService } from './services/sessions';
import { SigningKeyService } from './services/signing-keys';
import { TokenService } from './services/tokens';
import { ApiKeyAuthenticator } from './tokens/api-key-cache';
import { DpopProofs } from './tokens/dpop';
import { AuthWriter } from './tokens/auth-writer';
import { InProcessBus, InvalidationBus, PgListenBus } from './tokens/invalidation';
import { AuthState } from './tokens/state';
import { FederationService } from './services/federation';
import { IssuerKeys } from './federation/issuer-keys';
import { jsonFetcher } from './federation/fetch';
import type { FederationOptions } from './federation/options';

export interface ComposeDeps {
  /** With `publicUrl` set: the issuer and the OpenAPI server derive from it. */
  config: Config & { readonly publicUrl: string };
  db: Database;
  keys: MasterKey;
  logger: Logger;
  metrics: Metrics;
  lifecycle: Lifecycle;
  /** The clock of the token endpoint's failure budgets (default Date.now). */
  clock?: () => number;
  /** The clock the LISTEN link's heartbeats are timed with (default Date.now; tests move it forward). */
  invalidationClock?: () => number;
  /** Issuer-key fetching for federated credentials (trusted CAs, clock). */
  federation?: FederationOptions;
}

/** The agent-authentication services (for the CLI, tests and benchmarks). */
export interface AuthServices {
  readonly tokens: TokenService;
  readonly sessions: SessionService;
  readonly signingKeys: SigningKeyService;
}

export interface ControlPlane {
  readonly app: Express;
  /** The HTTP server's request listener: the direct lane, then `app`. */
  readonly listener: RequestListener;
  readonly services: Services;
  readonly auth: AuthServices;
  /** The process's one per-caller request limiter. */
  readonly limiter: RequestLimiter;
  /** The auth caches' invalidation bus. */
  readonly bus: InvalidationBus;
  readonly openApi: OpenApiDocument;
  /** Resolves when every authentication audit event queued so far is written (they are written after the response). */
  settleAudit(): Promise<void>;
  /** Stops the maintenance tick, writes what is queued, closes the bus and the limiter. */
  close(): Promise<void>;
}

function createLimiter(config: Config, db: Database, metrics: Metrics, logger: Logger): RequestLimiter {
  const observer: LimiterObserver = { refused: (s) => metrics.rateLimitRefusal(s), leased: (r) => metrics.rateLimitLease(r) };
  // PGlite: one process owns the store, so this process's buckets are the whole truth.
  if (db.backend !== 'postgres') return new LocalRequestLimiter(config.rateLimitPerSecond, observer);
  let lastLogged = 0;
  return new ClusterRequestLimiter(db.knex, config.rateLimitPerSecond, {
    observer,
    onError: (err) => {
      if (Date.now() - lastLogged < 10_000) return;
      lastLogged = Date.now();
      logger.warn({ err }, 'cluster rate limit: leasing from the database failed; limiting per replica until it works again');
    },
  });
}

async function startBus(config: Config, db: Database, logger: Logger, metrics: Metrics, now?: () => number): Promise<InvalidationBus> {
  // The listener may need its own URL: through a transaction-mode pooler a LISTEN would be lost.
  const listenUrl = config.listenDatabaseUrl ?? db.url;
  if (db.backend !== 'postgres' || !listenUrl) return new InProcessBus(logger);
  const bus = new PgListenBus(listenUrl, logger, { now });
  await bus.start();
  metrics.watchListener({
    get connected() {
      return bus.stats.connected;
    },
    get reconnects() {
      return bus.stats.reconnects;
    },
    get losses() {
      return bus.stats.losses;
    },
    get lagMs() {
      return bus.stats.lagMs;
    },
  });
  return bus;
}

export async function composeControlPlane(deps: ComposeDeps): Promise<ControlPlane> {
  const { config, db, keys, logger, metrics, lifecycle } = deps;
  const baseUrl = config.publicUrl.replace(/\/+$/, '');
  const allowPrivateNetworks = config.federationAllowPrivateNetworks;
  const services = createServices(db.knex, keys, { idempotencyTtlSeconds: config.idempotencyTtlSeconds, federation: { baseUrl, allowPrivateNetworks } });
  if (config.metrics) services.audit.observeAppends((kind, seconds) => metrics.auditAppend(kind, seconds));

  const bus = await startBus(config, db, logger, metrics, deps.invalidationClock);
  const limiter = createLimiter(config, db, metrics, logger);
  try {
    const signingKeys = new SigningKeyService(db.knex, services.audit, keys.signingKeyEncryption, config.signingKeyRotationSeconds, () => bus.healthy);
    await signingKeys.init();
    bus.subscribe((e) => {
      if (e.kind === 'signing_keys') signingKeys.invalidate(e.orgId);
      else if (e.kind === 'organization') signingKeys.invalidate(e.id);
      else if (e.kind === 'reset') signingKeys.invalidate(null);
    });

    const state = new AuthState(db.knex, bus, logger);
    await state.start();
    const writer = new AuthWriter(db.knex, services.audit, logger);
    const tokens = new TokenService(db.knex, signingKeys, state, writer, services.audit, bus, logger, { baseUrl, accessTokenTtlSeconds: config.accessTokenTtlSeconds, agentKeySeal: keys.agentKeySeal, delegationMaxDepth: config.delegationMaxDepth });
    const issuerKeys = new IssuerKeys(jsonFetcher({ allowPrivateNetworks, ca: deps.federation?.ca, timeoutMs: deps.federation?.timeoutMs }), {
      now: deps.federation?.now,
      // The issuer and why, never a document's content.
      onError: (issuer, err) => logger.warn({ issuer, reason: err.message }, 'could not fetch a federated credential issuer\'s keys'),
    });
    const federation = new FederationService(db.knex, issuerKeys, keys.agentKeySeal);
    const sessions = new SessionService(db.knex, tokens, bus, services.audit, config.idempotencyTtlSeconds * 1000);
    // Audit checkpoints are signed with the organization's token signing key, under its checkpoint issuer.
    services.audit.useCheckpointSigner({
      sign: (orgId, header, payload) => signingKeys.sign(orgId, header, payload),
      verificationKey: (orgId, kid) => signingKeys.verificationKey(orgId, kid),
      issuer: (orgId) => tokens.issuerFor(orgId),
    });

    services.agents.onTransition(async (tx, audit, ctx, agentId, to) => {
      if (to === 'suspended' || to === 'revoked') await sessions.endSessionsForAgent(tx, audit, ctx, agentId, to);
    });
    // A revoked token takes the sessions it opened (and a session token its session) with it.
    tokens.onRevoke((tx, audit, claims, ctx) => sessions.endSessionsForRevokedToken(tx, audit, ctx, claims));
    // After commit, before the transition's response: this process forgets at once.
    services.agents.onStatusChange((_orgId, agentId) => bus.publishLocal({ kind: 'agent', id: agentId }));
    // A removed scope leaves the agent's live tokens at once (TokenService.validate reads them).
    services.agents.onScopesChange((_orgId, agentId) => bus.publishLocal({ kind: 'credentials', id: agentId }));
    services.agents.onDelegationChange((subjectId, actorId) => bus.publishLocal({ kind: 'delegation', subjectId, actorId }));
    services.organizations.onApiKeyRevoked((id) => bus.publishLocal({ kind: 'api_key', id }));
    // Creations too: the negative caches of this process forget the id before the response (on
    // PGlite nothing else would tell them; on PostgreSQL the triggers tell the other replicas).
    services.organizations.onCreated((c) => bus.publishLocal(c));
    services.agents.onCreated((id) => bus.publishLocal({ kind: 'credentials', id }));

    // The one API-key authenticator and the one Authenticator of the process: every route's
    // credentials go through them, and every caller's budget through the one limiter.
    const apiKeys = new ApiKeyAuthenticator(services.organizations, keys.apiKeyPepper, bus);
    // DPoP proofs are remembered per place they are checked (the token endpoint, the routes);
    // CERTUSORDO_DPOP_NONCE applies to the token endpoint, where a nonce limits pre-made proofs.
    const tokenEndpointDpop = new DpopProofs({ requireNonce: config.dpopNonceRequired, nonceKey: keys.dpopNonce, clock: deps.clock });
    const routeDpop = new DpopProofs({ requireNonce: false, nonceKey: keys.dpopNonce, clock: deps.clock });
    const authenticator = new Authenticator({ apiKeys, tokens, limiter, dpop: routeDpop, baseUrl });
    metrics.watchCaches({
      agent_status: state.stats.agents, session_state: state.stats.sessions, revoked_jti: state.stats.revoked, api_key: apiKeys.stats,
      unknown_organization: signingKeys.absent.stats, unknown_agent: tokens.unknownAgents.stats, unknown_api_key: apiKeys.unknownPrefixes.stats, delegation: state.stats.delegations,
    });

    const routeDeps: ControlPlaneRouteDeps = {
      agents: services.agents,
      organizations: services.organizations,
      auditEvents: services.auditEvents,
      sessions,
      tokens,
      federation,
      signingKeys,
      limits: new EndpointLimits(config, undefined, deps.clock),
      dpop: tokenEndpointDpop,
      metrics,
      bodyLimitBytes: config.bodyLimitBytes,
      baseUrl,
      database: db,
      lifecycle,
      readiness: new DatabaseProbe(db.knex),
    };
    const openApi = openApiDocument(controlPlaneRoutes, config.publicUrl);
    const { app, listener } = createApp({ config, logger, metrics, lifecycle, authenticator, routes: controlPlaneRoutes, routeDeps, openApi });

    const maintenance = startMaintenance(config, logger, async () => {
      await signingKeys.rotateDue();
      await tokens.purgeExpired({ sessionRetentionMs: config.sessionRetentionSeconds * 1000 });
    });

    return {
      app,
      listener,
      services,
      auth: { tokens, sessions, signingKeys },
      limiter,
      bus,
      openApi,
      settleAudit: () => writer.settle(),
      close: async () => {
        await maintenance.stop();
        await writer.drain();
        await bus.close();
        await limiter.close();
      },
    };
  } catch (err) {
    await bus.close();
    await limiter.close();
    throw err;
  }
}

/** Scheduled signing-key rotation, retired-key expiry, purge of expired jti/revocation/session rows. */
function startMaintenance(config: Config, logger: Logger, run: () => Promise<void>): { stop(): Promise<void> } {
  const tickMs = Math.min(30_000, (config.signingKeyRotationSeconds * 1000) / 4);
  let tick: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (tick) return;
    tick = run()
      .catch((err) => logger.error({ err }, 'auth maintenance failed'))
      .finally(() => (tick = null));
  }, tickMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await tick;
    },
  };
}
