/**
 * Agent authentication: the OAuth token endpoint (client credentials + private_key_jwt),
 * introspection and revocation, JWKS and authorization-server metadata, signing-key rotation and
 * bounded sessions. Wires the services to the invalidation bus (LISTEN on PostgreSQL, in-process
 * on PGlite), hooks agent status changes (sessions end in the same transaction; caches drop after
 * commit), and runs the maintenance tick (scheduled key rotation, purge of expired rows).
 */
import express, { Router } from 'express';
import { z } from 'zod';
import type { Config } from './config';
import type { Database } from './db/connect';
import type { Logger } from './logger';
import type { Services } from './services';
import type { MasterKey } from './crypto/master-key';
import type { RequestLimiter } from './middleware/rate-limit';
import type { Metrics } from './metrics/metrics';
import { registerOperations } from './openapi';
import { AuthorizationServerMetadata, Introspection, Jwks, RevocationResponse, SigningKeyPage, SigningKeyRotation, TokenResponse } from './schemas/responses';
import { EndpointLimits } from './oauth/token-limits';
import { oauthRouter } from './routes/oauth';
import { sessionsRouter } from './routes/sessions';
import { RotateBody, signingKeysRouter } from './routes/signing-keys';
import { wellKnownRouter } from './routes/well-known';
import { SessionService } from './services/sessions';
import { SigningKeyService } from './services/signing-keys';
import { TokenService } from './services/tokens';
import { SessionCreate, SessionListQuery, SessionOperation, SessionPage, SessionView } from './sessions/schemas';
import { ApiKeyAuthenticator } from './tokens/api-key-cache';
import { AuthWriter } from './tokens/auth-writer';
import { InProcessBus, InvalidationBus, PgListenBus } from './tokens/invalidation';
import { AuthState } from './tokens/state';

export interface AuthModuleDeps {
  config: Config;
  db: Database;
  logger: Logger;
  services: Services;
  keys: MasterKey;
  /** The process's one per-caller request limiter, shared with the /v1 routes of the app. */
  limiter: RequestLimiter;
  metrics: Metrics;
}

export interface AuthServices {
  readonly tokens: TokenService;
  readonly sessions: SessionService;
  readonly signingKeys: SigningKeyService;
  readonly bus: InvalidationBus;
  /** Resolves when every authentication audit event queued so far is written (they are written after the response). */
  settleAudit(): Promise<void>;
}

export interface AuthModule {
  routers: Router[];
  /** API-key authentication shared with the /v1 routes (cached on PostgreSQL, invalidated by NOTIFY). */
  apiKeys?: ApiKeyAuthenticator;
  /** The module's services (for the CLI, tests and benchmarks). */
  auth?: AuthServices;
  close(): Promise<void>;
}

let operationsRegistered = false;

function registerAuthOperations(): void {
  if (operationsRegistered) return;
  operationsRegistered = true;
  const OAuthForm = z.record(z.string(), z.string()).meta({ description: 'application/x-www-form-urlencoded (or JSON) OAuth parameters' });
  registerOperations([
    { method: 'post', path: '/v1/oauth/token', summary: 'Access token: grant_type=client_credentials with a private_key_jwt client_assertion (RFC 7523)', body: OAuthForm, response: TokenResponse, errorStyle: 'oauth', errors: [401, 429] },
    { method: 'post', path: '/v1/oauth/introspect', summary: 'Token introspection (RFC 7662): active only while unrevoked, agent active, session open', role: 'reader', body: OAuthForm, response: Introspection, errorStyle: 'oauth' },
    { method: 'post', path: '/v1/oauth/revoke', summary: 'Token revocation (RFC 7009): an operator API key, the agent\'s token, or the token itself; 200 whether or not the token was valid', body: OAuthForm, response: RevocationResponse, errorStyle: 'oauth', errors: [401, 429] },
    { method: 'get', path: '/orgs/{org_id}/.well-known/jwks.json', summary: 'The organization\'s access-token signing keys (JWKS, OKP/Ed25519)', response: Jwks, contentType: 'application/jwk-set+json' },
    { method: 'get', path: '/.well-known/oauth-authorization-server/orgs/{org_id}', summary: 'The organization issuer\'s authorization server metadata (RFC 8414)', response: AuthorizationServerMetadata },
    { method: 'get', path: '/v1/signing-keys', summary: 'List the organization\'s published signing keys', role: 'reader', response: SigningKeyPage },
    { method: 'post', path: '/v1/signing-keys/rotate', summary: 'Rotate the organization\'s signing key now (the previous key stays published until its tokens expire)', role: 'admin', body: RotateBody, response: SigningKeyRotation },
    { method: 'post', path: '/v1/sessions', summary: 'Open a bounded session (Bearer: the agent\'s access token); returns a session-bound token', body: SessionCreate, response: SessionView, status: 201, errors: [401, 403, 429] },
    { method: 'get', path: '/v1/sessions', summary: 'List sessions (API key: reader; an agent sees its own)', role: 'reader', query: SessionListQuery, response: SessionPage },
    { method: 'get', path: '/v1/sessions/{id}', summary: 'Get a session (API key: reader; or the agent)', role: 'reader', response: SessionView },
    { method: 'post', path: '/v1/sessions/{id}/operations', summary: 'Record an operation against the session (403 when outside scope, budget, time)', role: 'operator', body: SessionOperation, response: SessionView, errors: [409] },
    { method: 'delete', path: '/v1/sessions/{id}', summary: 'End a session (the agent with its token, or an operator API key)', role: 'operator', response: SessionView },
  ]);
}

export async function createAuthModule(deps: AuthModuleDeps): Promise<AuthModule> {
  const { config, db, logger, services, keys, limiter, metrics } = deps;
  const baseUrl = (config.publicUrl ?? `http://${config.host}:${config.port}`).replace(/\/+$/, '');

  // The listener may need its own URL: through a transaction-mode pooler a LISTEN would be lost.
  const listenUrl = config.listenDatabaseUrl ?? db.url;
  const bus: InvalidationBus = db.backend === 'postgres' && listenUrl ? new PgListenBus(listenUrl, logger) : new InProcessBus(logger);
  if (bus instanceof PgListenBus) {
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
    });
  }
  try {
    const signingKeys = new SigningKeyService(db.knex, services.audit, keys.signingKeyEncryption, config.signingKeyRotationSeconds);
    await signingKeys.init();
    bus.subscribe((e) => {
      if (e.kind === 'signing_keys') signingKeys.invalidate(e.orgId);
      else if (e.kind === 'reset') signingKeys.invalidate(null);
    });

    const state = new AuthState(db.knex, bus, logger);
    await state.start();
    const writer = new AuthWriter(db.knex, services.audit, logger);
    const tokens = new TokenService(db.knex, signingKeys, state, writer, services.audit, bus, logger, { baseUrl, accessTokenTtlSeconds: config.accessTokenTtlSeconds });
    const sessions = new SessionService(db.knex, tokens, bus, services.audit, config.idempotencyTtlSeconds * 1000);
    // Audit checkpoints are signed with the organization's token signing key, under its issuer.
    services.audit.useCheckpointSigner({
      sign: (orgId, header, payload) => signingKeys.sign(orgId, header, payload),
      verificationKey: (orgId, kid) => signingKeys.verificationKey(orgId, kid),
      issuer: (orgId) => tokens.issuerFor(orgId),
    });

    services.agents.onTransition(async (tx, ctx, agentId, to) => {
      if (to === 'suspended' || to === 'revoked') await sessions.endSessionsForAgent(tx, ctx, agentId, to);
    });
    // A revoked token takes the sessions it opened (and a session token its session) with it.
    tokens.onRevoke((tx, claims, ctx) => sessions.endSessionsForRevokedToken(tx, ctx, claims));
    // After commit, before the transition's response: this process forgets at once.
    services.agents.onStatusChange((_orgId, agentId) => bus.publishLocal({ kind: 'agent', id: agentId }));
    services.organizations.onApiKeyRevoked((id) => bus.publishLocal({ kind: 'api_key', id }));

    const callerDeps = {
      apiKeys: new ApiKeyAuthenticator(services.organizations, keys.apiKeyPepper, bus),
      tokens,
      limiter,
      metrics,
    };
    metrics.watchCaches({ agent_status: state.stats.agents, session_state: state.stats.sessions, revoked_jti: state.stats.revoked, api_key: callerDeps.apiKeys.stats });
    registerAuthOperations();

    const api = express.Router();
    api.use('/v1/oauth', oauthRouter({ ...callerDeps, limits: new EndpointLimits(config), bodyLimitBytes: config.bodyLimitBytes, logger }));
    api.use('/v1/sessions', sessionsRouter({ ...callerDeps, sessions, bodyLimitBytes: config.bodyLimitBytes }));
    api.use('/v1/signing-keys', signingKeysRouter({ ...callerDeps, signingKeys, bodyLimitBytes: config.bodyLimitBytes }));

    // Maintenance: scheduled rotation, retired-key expiry, purge of expired jti/revocation rows.
    const tickMs = Math.min(30_000, (config.signingKeyRotationSeconds * 1000) / 4);
    let tick: Promise<void> | null = null;
    const timer = setInterval(() => {
      if (tick) return;
      tick = (async () => {
        await signingKeys.rotateDue();
        await tokens.purgeExpired({ sessionRetentionMs: config.sessionRetentionSeconds * 1000 });
      })()
        .catch((err) => logger.error({ err }, 'auth maintenance failed'))
        .finally(() => (tick = null));
    }, tickMs);
    timer.unref();

    return {
      routers: [wellKnownRouter(baseUrl, signingKeys), api],
      apiKeys: callerDeps.apiKeys,
      auth: { tokens, sessions, signingKeys, bus, settleAudit: () => writer.settle() },
      close: async () => {
        clearInterval(timer);
        await tick;
        await writer.drain();
        await bus.close();
      },
    };
  } catch (err) {
    await bus.close();
    throw err;
  }
}
