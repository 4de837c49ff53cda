/**
 * Agent authentication and access tokens: the rules. Their HTTP edge is oauth/ (the OAuth
 * endpoints' steps, limits and RFC 6749 error bodies); their runtime state is tokens/ (caches,
 * invalidation, the group-committed writer, purge); their queries are db/operations/tokens.ts.
 *
 * - Client authentication: RFC 7523 private_key_jwt — an Ed25519 JWT (`alg` EdDSA, or its RFC 9864
 *   fully-specified name Ed25519) signed by one of the agent's active keys, single use (jti),
 *   short-lived, for this token endpoint (or the server, or the agent's organization issuer).
 * - Access tokens: RFC 9068 JWTs (`typ: at+jwt`) signed EdDSA with the current signing key of the
 *   agent's organization, which is their issuer (`iss`, see issuer.ts); `aud` is the RFC 8707
 *   resource(s) requested, else the issuer. Besides the registered claims they carry `org_id`,
 *   `sid` for session tokens, and `iat_ms`, the exact issue time: a token is valid only if issued
 *   at or after its agent's last status change, so tokens issued before a suspension stay dead
 *   after reactivation while tokens issued after it are never refused (JWT `iat` has only second
 *   precision).
 * - Validation (introspection, agent-authenticated calls) checks signature (a key of the token's
 *   organization), issuer (that organization's), expiry, then revocation, agent status and
 *   session state through AuthState (cached, invalidated on change), and narrows the token's
 *   scopes to those the agent still holds.
 */
import { KeyObject, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { z } from 'zod';
import type { Introspection } from '../schemas/responses';
import { intersectScopes, isScope, scopeCovers, SCOPES_MAX } from '../../../model/agent';
import { CLIENT_ASSERTION_MAX_LIFETIME_SECONDS, TOKEN_SCOPE_PARAM_MAX, TOKEN_SCOPE_PARAM_RULE } from '../../../model/limits';
import { ACCESS_TOKEN_TYPE, actorChain, DELEGATION_MAX_DEPTH_DEFAULT, PARENT_JTIS_CLAIM } from '../../../model/delegation';
import { generateEd25519, publicKeyObject } from '../crypto/ed25519';
import { canonicalUuid, isCanonicalUuid } from '../crypto/ids';
import * as ops from '../db/operations/tokens';
import type { Logger } from '../logger';
import { DomainError, InvalidClientError, InvalidGrantError, InvalidScopeError } from '../domain/errors';
import { orgIdFromIssuer, orgIssuer } from './issuer';
import type { AuthenticatedKey } from './organizations';
import type { AuditContext, AuditLog, AuditUnit } from './audit';
import { agentKeySealMatches } from '../crypto/agent-key-seal';
import { claimTextViolation, DecodedJws, decodeJws, verifyEd25519 } from '../crypto/jws';
import type { InvalidationBus, InvalidationEvent } from '../tokens/invalidation';
import type { AgentState, AuthState } from '../tokens/state';
import type { AuthWriter } from '../tokens/auth-writer';
import { NegativeCache } from '../tokens/negative-cache';
import { purgeAuthRows, PurgeCounts, PurgeOptions } from '../tokens/purge';
import { MAX_TOKEN_LIFETIME_SECONDS, SigningKeyService } from './signing-keys';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Clock tolerance for client assertions (their iat/exp/nbf come from the agent's clock). */
export const ASSERTION_LEEWAY_SECONDS = 10;
/** How far another replica's clock may run ahead of this one's when it stamps a token's iat. */
const REPLICA_CLOCK_SKEW_SECONDS = 60;
export const MAX_ASSERTION_LIFETIME_SECONDS = CLIENT_ASSERTION_MAX_LIFETIME_SECONDS;
/** The one message for every failure that could reveal whether an agent exists. */
export const CLIENT_AUTH_FAILED = 'Client authentication failed';

/**
 * An access token's claims: what introspection shows of an active token (its response schema: iss,
 * the organization's issuer; aud, the RFC 8707 resource(s) of the request or else the issuer; sid
 * for a session token), plus the exact issue time in milliseconds.
 */
export type AccessTokenClaims = Omit<Extract<z.output<typeof Introspection>, { active: true }>, 'active' | 'token_type'> & {
  iat_ms: number;
  /** A delegated token's ancestors (model/delegation.ts PARENT_JTIS_CLAIM): revoking any of them ends it. */
  parent_jtis?: string[];
};

/** Who holds the token: the current actor of a delegated token (RFC 8693 `act`), else its subject. */
export function tokenHolder(claims: Pick<AccessTokenClaims, 'sub' | 'act'>): string {
  return actorChain(claims.act)?.at(-1) ?? claims.sub;
}

export interface AuthenticatedClient {
  /** The client-authentication method that authenticated it (its RFC 8414 name). */
  method: string;
  agentId: string;
  orgId: string;
  scopes: string[];
  kid: string;
  assertionJti: string;
  assertionExpiresAt: Date;
  /** The credentials came from the cache (scopes may lag a change by a few milliseconds). */
  fromCache: boolean;
  /**
   * Set when a workload's platform token authenticated the agent (services/federation.ts): the
   * federated credential it matched, which must still be active at commit; its jti is not consumed.
   */
  federated?: { credentialId: string; issuer: string; subject: string };
}

export type ClientAuthResult =
  | { ok: true; client: AuthenticatedClient }
  /** `agent` is set when the failure can be attributed (audit); otherwise only `claimedAgentId` (log). */
  | { ok: false; error: DomainError; agent?: { id: string; orgId: string }; claimedAgentId?: string; method?: string };

/** What a grant or a proof adds to the token it issues, beside the client's own claims. */
export interface IssueOptions {
  /** RFC 8707 resources, validated by the endpoint: the token's audience. */
  resources?: string[];
  /** Further claims (for example `cnf`, `act`); they never replace a claim the service sets. */
  claims?: Record<string, unknown>;
  /**
   * A token that acts for another agent (RFC 8693 token exchange): the client is the actor (its
   * assertion is consumed, its last_auth_at stamped, its scopes re-checked at commit), `subjectId`
   * the token's `sub`, `notAfterSeconds` the latest `exp` it may have (the exchanged token's),
   * `notBeforeMs` the earliest exact issue time it may carry (the exchanged token's and the
   * grant's, so a replica whose clock is behind never issues a token its own checks refuse);
   * `audit` goes into the exchange's audit event.
   */
  delegation?: { subjectId: string; notAfterSeconds: number; notBeforeMs: number; audit: Record<string, unknown> };
}

export interface TokenResponse {
  access_token: string;
  token_type: AccessTokenType;
  expires_in: number;
  scope: string;
  issued_token_type?: typeof ACCESS_TOKEN_TYPE;
}

export type Introspection = ({ active: true; token_type: AccessTokenType } & Omit<AccessTokenClaims, 'iat_ms'>) | { active: false };

/** `DPoP` for a token bound to a proof key (its `cnf.jkt`, RFC 9449 §6), else `Bearer`. */
export type AccessTokenType = 'Bearer' | 'DPoP';
export const tokenType = (claims: { cnf?: { jkt: string } | undefined }): AccessTokenType => (claims.cnf ? 'DPoP' : 'Bearer');

/**
 * Called inside a token's revocation unit of work with the revoked token's claims and the
 * revoker's audit context; returns the invalidations to announce in this process once it commits.
 */
export type RevocationHook = (tx: Knex.Transaction, audit: AuditUnit, claims: AccessTokenClaims, ctx: AuditContext) => Promise<InvalidationEvent[] | void>;

export interface TokenServiceOptions {
  /** The server's public URL without a trailing slash; every organization's issuer is below it. */
  baseUrl: string;
  accessTokenTtlSeconds: number;
  /** Most actors one delegated token may carry (model/delegation.ts DELEGATION_MAX_DEPTH_RULE). */
  delegationMaxDepth?: number;
  /** The master key's agent-key seal: only keys whose seal verifies authenticate (crypto/agent-key-seal.ts). */
  agentKeySeal: Buffer;
}

/** What a success audits of the credential used: the key, or the federated credential and the workload. */
function credentialAudit(client: AuthenticatedClient): Record<string, unknown> {
  const f = client.federated;
  if (!f) return { kid: client.kid };
  return { credential_id: f.credentialId, iss: f.issuer, sub: f.subject, ...(client.assertionJti ? { assertion_jti: client.assertionJti } : {}) };
}

/** The DPoP key a token is bound to, for its issuance event (a public-key thumbprint, no secret). */
function dpopAuditData(claims: Record<string, unknown> | undefined): { dpop_jkt?: string } {
  return claims && isConfirmation(claims.cnf) ? { dpop_jkt: claims.cnf.jkt } : {};
}

/** A token's confirmation claim as this server writes it: only the DPoP key thumbprint. */
function isConfirmation(v: unknown): v is { jkt: string } {
  return typeof v === 'object' && v !== null && typeof (v as { jkt?: unknown }).jkt === 'string' && Object.keys(v).length === 1;
}

/** A throwaway key so that an unknown agent costs the same signature check as a known one. */
const DUMMY_KEY: KeyObject = publicKeyObject(generateEd25519().publicKey);
const MAX_KEY_OBJECTS = 10_000;
/** Least time between two re-reads of one agent's credentials after its cached ones failed a check. */
const REREAD_INTERVAL_MS = 1000;
const MAX_VERIFIED_TOKENS = 20_000;

export class TokenService {
  readonly tokenEndpoint: string;
  /** kid (a thumbprint, so content-addressed) → public KeyObject. */
  private readonly keyObjects = new Map<string, KeyObject>();
  /** Agent credentials for the token endpoint (agent id → keys, scopes, status); see credentials(). */
  private readonly credentialCache = new Map<string, ops.AgentCredentialsRow>();
  private credentialGeneration = 0;
  /** When each agent's credentials were last re-read after cached ones failed a check (bounded). */
  private readonly rereads = new Map<string, number>();
  /** Agent ids that name no agent (a made-up `sub` is refused without a read after the first). */
  readonly unknownAgents: NegativeCache;
  /** Access tokens whose signature was verified (token → claims), bounded. */
  private readonly verified = new Map<string, AccessTokenClaims>();

  constructor(
    private readonly db: Knex,
    private readonly signingKeys: SigningKeyService,
    private readonly state: AuthState,
    private readonly writer: AuthWriter,
    private readonly audit: AuditLog,
    private readonly bus: InvalidationBus,
    private readonly logger: Logger,
    readonly options: TokenServiceOptions,
  ) {
    this.tokenEndpoint = `${options.baseUrl}/v1/oauth/token`;
    // Both backends: every agent creation is announced (in process by the agents service, on every
    // replica by the agent_keys trigger), which is all the negative cache needs.
    this.unknownAgents = new NegativeCache(() => bus.healthy);
    bus.subscribe((e) => {
      if (e.kind === 'credentials' || e.kind === 'agent') {
        this.credentialGeneration++;
        this.credentialCache.delete(e.id);
        this.unknownAgents.forget(e.id);
      } else if (e.kind === 'reset') {
        this.credentialGeneration++;
        this.credentialCache.clear();
        this.unknownAgents.clear();
      }
    });
  }

  /** The server's public URL (shared endpoints live below it; it is no token's issuer). */
  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** The organization's issuer: `iss` of its tokens, the base of its metadata and JWKS. */
  issuerFor(orgId: string): string {
    return orgIssuer(this.options.baseUrl, orgId);
  }

  // ---- client authentication ---------------------------------------------------------------

  /** Verifies a client assertion (everything except single use, which the issuing transaction enforces). */
  async authenticateClient(assertion: string | DecodedJws | null, clientIdParam: string | undefined, nowMs = Date.now()): Promise<ClientAuthResult> {
    const fail = (error: DomainError, extra: Partial<Extract<ClientAuthResult, { ok: false }>> = {}): ClientAuthResult => ({ ok: false, error, ...extra });
    const jws = typeof assertion === 'string' ? decodeJws(assertion) : assertion;
    if (!jws) return fail(new InvalidClientError('client_assertion is not a compact JWS', 'malformed_assertion'));
    const { header, payload: p } = jws;
    // One spelling per agent: case variants of an id share its cache entries (and its budgets).
    const claimed = canonicalUuid(p.sub) ?? undefined;
    const bad = (description: string, reason: string) => fail(new InvalidClientError(description, reason), { claimedAgentId: claimed });
    // Before any claim is read: the jti is stored, kid and aud are compared.
    const textViolation = claimTextViolation(jws, 'client_assertion');
    if (textViolation) return bad(textViolation, 'malformed_assertion');
    if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519') return bad('client_assertion must be signed with Ed25519 (alg EdDSA or Ed25519)', 'unsupported_alg');
    if (header.crit !== undefined) return bad('client_assertion uses unsupported critical headers', 'crit_header');
    if (header.kid !== undefined && typeof header.kid !== 'string') return bad('client_assertion kid must be a string', 'malformed_assertion');
    if (!claimed || p.iss !== p.sub) return bad('client_assertion iss and sub must both be the agent id', 'bad_issuer');
    if (clientIdParam !== undefined && canonicalUuid(clientIdParam) !== claimed) return bad('client_id does not match the client_assertion subject', 'client_id_mismatch');
    const aud = typeof p.aud === 'string' ? [p.aud] : Array.isArray(p.aud) ? p.aud : [];
    // The token endpoint or the server; an organization issuer is checked against the agent's below.
    const audServer = aud.some((a) => a === this.tokenEndpoint || a === this.options.baseUrl);
    const audOrgs = audServer ? [] : aud.filter((a): a is string => typeof a === 'string' && orgIdFromIssuer(this.options.baseUrl, a) !== null);
    if (!audServer && audOrgs.length === 0) return bad(`client_assertion aud must be ${this.tokenEndpoint}`, 'wrong_audience');
    const now = nowMs / 1000;
    if (typeof p.exp !== 'number' || typeof p.iat !== 'number') return bad('client_assertion must carry numeric exp and iat', 'missing_claims');
    if (p.exp <= now - ASSERTION_LEEWAY_SECONDS) return bad('client_assertion has expired', 'assertion_expired');
    if (p.exp > now + MAX_ASSERTION_LIFETIME_SECONDS + ASSERTION_LEEWAY_SECONDS) {
      return bad(`client_assertion exp must be at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds ahead`, 'assertion_lifetime');
    }
    if (p.iat > now + ASSERTION_LEEWAY_SECONDS) return bad('client_assertion iat is in the future', 'assertion_not_yet_valid');
    if (p.nbf !== undefined && (typeof p.nbf !== 'number' || p.nbf > now + ASSERTION_LEEWAY_SECONDS)) return bad('client_assertion is not valid yet (nbf)', 'assertion_not_yet_valid');
    if (typeof p.jti !== 'string' || p.jti.length < 1 || p.jti.length > 256) return bad('client_assertion must carry a jti of 1-256 characters', 'missing_claims');

    let { row: agent, cached } = await this.credentials(claimed);
    if (!agent) {
      await verifyEd25519(jws, DUMMY_KEY); // same work as a wrong signature
      return bad(CLIENT_AUTH_FAILED, 'unknown_agent');
    }
    const kid = header.kid as string | undefined;
    const match = async (a: ops.AgentCredentialsRow) => {
      const candidates = kid === undefined ? a.keys : a.keys.filter((k) => k.kid === kid);
      for (const k of candidates) if (await verifyEd25519(jws, this.keyObject(k.kid, k.x))) return { candidates, matched: k };
      return { candidates, matched: undefined };
    };
    let { candidates, matched } = await match(agent);
    if (cached && (matched ? agent.status !== 'active' : this.mayLagKey(agent, kid, nowMs))) {
      // The cache may lag a key addition or a reactivation by a few milliseconds: ask the database.
      ({ row: agent, cached } = await this.credentials(claimed, true));
      if (!agent) return bad(CLIENT_AUTH_FAILED, 'unknown_agent');
      ({ candidates, matched } = await match(agent));
    }
    const attributed = { agent: { id: agent.id, orgId: agent.organization_id }, claimedAgentId: claimed };
    if (!matched) {
      if (candidates.length === 0) await verifyEd25519(jws, DUMMY_KEY);
      return fail(new InvalidClientError(CLIENT_AUTH_FAILED, candidates.length === 0 ? 'unknown_key' : 'bad_signature'), attributed);
    }
    // After the signature check, and with the same message as any other failure: another
    // organization's issuer as audience must not reveal which organization the agent belongs to.
    if (!audServer && !audOrgs.includes(this.issuerFor(agent.organization_id))) return fail(new InvalidClientError(CLIENT_AUTH_FAILED, 'wrong_audience'), attributed);
    if (agent.status !== 'active') {
      return fail(new InvalidGrantError(`The agent is ${agent.status}`, `agent_${agent.status}`), attributed);
    }
    return {
      ok: true,
      client: {
        method: 'private_key_jwt', agentId: agent.id, orgId: agent.organization_id, scopes: agent.scopes, kid: matched.kid, assertionJti: p.jti,
        assertionExpiresAt: new Date(p.exp * 1000), fromCache: cached,
      },
    };
  }

  /**
   * Whether a failed signature check against cached keys could pass against the database's: not when
   * the assertion names a cached key (a kid is its key's thumbprint, so the database holds the same
   * key), and then at most once a second per agent, so forged assertions naming a real agent cannot
   * turn every request into a database read.
   */
  private mayLagKey(agent: ops.AgentCredentialsRow, kid: string | undefined, nowMs: number): boolean {
    if (kid !== undefined && agent.keys.some((k) => k.kid === kid)) return false;
    const last = this.rereads.get(agent.id);
    if (last !== undefined && nowMs >= last && nowMs - last < REREAD_INTERVAL_MS) return false;
    if (this.rereads.size >= MAX_KEY_OBJECTS) this.rereads.clear();
    this.rereads.set(agent.id, nowMs);
    return true;
  }

  /**
   * The agent's keys, scopes and status. Cached only while notifications from every replica are
   * guaranteed (PostgreSQL LISTEN up); the issuing transaction re-checks all of it under the agent
   * row lock, so the cache only spares a read, never decides.
   */
  private async credentials(agentId: string, fresh = false): Promise<{ row: ops.AgentCredentialsRow | undefined; cached: boolean }> {
    const cacheable = this.bus.crossProcess && this.bus.healthy;
    if (cacheable && !fresh) {
      const hit = this.credentialCache.get(agentId);
      if (hit) return { row: hit, cached: true };
    }
    if (!fresh && this.unknownAgents.get(agentId)) return { row: undefined, cached: true };
    const g = this.credentialGeneration;
    const mark = this.unknownAgents.mark();
    const row = await this.sealedCredentials(agentId);
    if (!row) this.unknownAgents.remember(agentId, mark, true);
    if (row && cacheable && g === this.credentialGeneration) {
      if (this.credentialCache.size >= MAX_KEY_OBJECTS) this.credentialCache.clear();
      this.credentialCache.set(agentId, row);
    }
    return { row, cached: false };
  }

  /**
   * The agent's credentials with only its sealed keys: a key row whose seal does not verify (one
   * written straight into the database, or of an agent moved to another organization) is left
   * out, as if it were not there, and logged.
   */
  private async sealedCredentials(agentId: string): Promise<ops.AgentCredentialsRow | undefined> {
    const row = await ops.getAgentCredentials(this.db, agentId);
    if (!row) return row;
    const keys = row.keys.filter((k) => agentKeySealMatches(
      this.options.agentKeySeal,
      { organization_id: row.organization_id, agent_id: row.id, kid: k.kid, public_key: Buffer.from(k.x, 'base64url') },
      k.seal === null ? null : Buffer.from(k.seal, 'hex'),
    ));
    if (keys.length < row.keys.length) {
      const unsealed = row.keys.filter((k) => !keys.includes(k)).map((k) => k.kid);
      this.logger.warn({ agent_id: row.id, organization_id: row.organization_id, kids: unsealed }, 'agent key rows whose seal does not verify are ignored (written outside the control plane?)');
    }
    return { ...row, keys };
  }

  private keyObject(kid: string, x: string): KeyObject {
    let k = this.keyObjects.get(kid);
    if (!k) {
      k = publicKeyObject(Buffer.from(x, 'base64url'));
      if (this.keyObjects.size >= MAX_KEY_OBJECTS) this.keyObjects.clear();
      this.keyObjects.set(kid, k);
    }
    return k;
  }

  /**
   * The scopes requested (each must be covered by the agent's), or null for all of the agent's
   * (resolved at commit, so a just-changed scope list applies).
   */
  async grantedScopes(client: AuthenticatedClient, scopeParam: string | undefined): Promise<string[] | null> {
    if (scopeParam === undefined || scopeParam.trim() === '') return null;
    if (scopeParam.length > TOKEN_SCOPE_PARAM_MAX) throw new InvalidScopeError(`scope: ${TOKEN_SCOPE_PARAM_RULE}`);
    const requested = [...new Set(scopeParam.split(' ').filter(Boolean))];
    if (requested.length > SCOPES_MAX) throw new InvalidScopeError(`scope: ${TOKEN_SCOPE_PARAM_RULE}`);
    for (const s of requested) if (!isScope(s)) throw new InvalidScopeError(`"${s.slice(0, 100)}" is not a valid scope`);
    let granted = client.scopes;
    if (client.fromCache && !requested.every((s) => scopeCovers(granted, s))) granted = (await this.credentials(client.agentId, true)).row?.scopes ?? [];
    const missing = requested.find((s) => !scopeCovers(granted, s));
    if (missing) throw new InvalidScopeError(`The scope "${missing}" is not granted to this agent`);
    return requested;
  }

  /**
   * Consumes the assertion, stamps last_auth_at, audits, then signs the access token; `resources`
   * (RFC 8707, validated by the endpoint) become its audience.
   */
  async issue(client: AuthenticatedClient, requested: string[] | null, ctx: { requestId: string | null; clientIp: string | null }, opts: IssueOptions = {}): Promise<TokenResponse> {
    const resources = opts.resources ?? [];
    const jti = randomUUID();
    const delegation = opts.delegation;
    const data = { method: client.method, ...credentialAudit(client), token_jti: jti, ...(resources.length ? { resource: resources } : {}), ...dpopAuditData(opts.claims) };
    // The key first: a failure after the commit would leave an audited issuance behind an error.
    const sign = await this.signer(client.orgId);
    const outcome = await this.writer.issue({
      ctx: this.agentContext(client.orgId, client.agentId, ctx),
      method: client.method,
      agentId: client.agentId,
      kid: client.kid,
      federatedCredentialId: client.federated?.credentialId,
      scopes: requested,
      agentScopes: client.scopes,
      jti: client.assertionJti,
      assertionExpiresAt: client.assertionExpiresAt,
      success: delegation
        ? { action: 'token.exchanged', targetType: 'agent', targetId: delegation.subjectId, data: { ...data, ...delegation.audit } }
        : { action: 'agent.authenticated', targetType: 'agent', targetId: client.agentId, data },
    });
    if (!outcome.ok) {
      switch (outcome.reason) {
        case 'assertion_replayed':
          throw new InvalidClientError('client_assertion was already used (jti replay)', outcome.reason);
        case 'key_removed':
        case 'credential_removed':
          throw new InvalidClientError(CLIENT_AUTH_FAILED, outcome.reason);
        case 'scope_not_granted':
          throw new InvalidScopeError('A requested scope is no longer granted to this agent', outcome.reason);
        default:
          throw new InvalidGrantError('The agent is not active', outcome.reason);
      }
    }
    const scopes = outcome.scopes;
    const issuedAtMs = Math.max(outcome.issuedAtMs, delegation?.notBeforeMs ?? 0);
    const iat = Math.floor(issuedAtMs / 1000);
    const exp = Math.min(iat + Math.min(this.options.accessTokenTtlSeconds, MAX_TOKEN_LIFETIME_SECONDS), delegation?.notAfterSeconds ?? Infinity);
    const iss = this.issuerFor(client.orgId);
    const aud = resources.length === 0 ? iss : resources.length === 1 ? resources[0]! : resources;
    const claims: AccessTokenClaims = {
      ...opts.claims,
      iss, sub: delegation?.subjectId ?? client.agentId, aud, client_id: client.agentId, scope: scopes.join(' '),
      jti, iat, iat_ms: issuedAtMs, exp, org_id: client.orgId,
    };
    return {
      access_token: await sign(claims), token_type: tokenType(claims), expires_in: exp - iat, scope: scopes.join(' '),
      ...(delegation ? { issued_token_type: ACCESS_TOKEN_TYPE } : {}),
    };
  }

  agentContext(orgId: string, agentId: string, r: { requestId: string | null; clientIp: string | null }): AuditContext {
    return { organizationId: orgId, actorType: 'agent', actorId: agentId, requestId: r.requestId, clientIp: r.clientIp };
  }

  /** Audits (known agent) or logs (unknown agent) a failed authentication. Never includes the assertion. */
  /**
   * Known agents' failures are coalesced per agent, reason and window (at most one audit event each).
   * `throttled`: the failure was over its budget; it is only counted, and not logged.
   */
  recordFailure(result: Extract<ClientAuthResult, { ok: false }>, r: { requestId: string | null; clientIp: string | null }, throttled = false): void {
    const reason = result.error.reason ?? result.error.code;
    if (result.agent) {
      this.writer.recordFailure(this.agentContext(result.agent.orgId, result.agent.id, r), {
        action: 'agent.authentication_failed', targetType: 'agent', targetId: result.agent.id, outcome: 'failure', reason,
        data: { method: result.method ?? 'private_key_jwt', reason },
      }, throttled);
    } else if (!throttled) {
      this.logger.warn({ event: 'agent.authentication_failed', claimed_agent_id: result.claimedAgentId ?? null, reason, client_ip: r.clientIp, request_id: r.requestId }, 'agent authentication failed');
    }
  }

  // ---- access tokens ---------------------------------------------------------------------

  /** Signs with the current key of the token's organization (`org_id`). */
  async sign(claims: AccessTokenClaims): Promise<string> {
    return (await this.signer(claims.org_id))(claims);
  }

  /**
   * Signing the organization's access tokens with its current key, resolved now: a caller resolves
   * it before it commits what a token stands for, so that whatever can fail (loading the key,
   * creating the first one) fails before anything is written.
   */
  async signer(orgId: string): Promise<(claims: AccessTokenClaims) => Promise<string>> {
    const sign = await this.signingKeys.signer(orgId);
    return (claims) => sign({ typ: 'at+jwt' }, claims as unknown as Record<string, unknown>);
  }

  /** Signature, type, issuer and expiry only (no revocation/status checks); null when not ours or expired. */
  async verifySignature(token: string, nowMs = Date.now()): Promise<AccessTokenClaims | null> {
    // A token's signature never stops being valid (its key stays published until it expires), so a
    // token seen before skips the Ed25519 check; only the expiry is re-checked.
    const seen = this.verified.get(token);
    if (seen) {
      if (seen.exp * 1000 > nowMs) return seen;
      this.verified.delete(token);
      return null;
    }
    const claims = await this.verifyUncached(token, nowMs);
    if (claims) {
      if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.clear();
      this.verified.set(token, claims);
    }
    return claims;
  }

  /** `nowMs` null: whatever the expiry (revocation accepts an expired token; see revoke). */
  private async verifyUncached(token: string, nowMs: number | null): Promise<AccessTokenClaims | null> {
    const jws = decodeJws(token);
    if (!jws) return null;
    const h = jws.header;
    if (h.alg !== 'EdDSA' || h.typ !== 'at+jwt' || typeof h.kid !== 'string') return null;
    const p = jws.payload;
    // The key is looked up in the claimed organization's set: a token verifies only with a key of
    // the organization it names, and names only that organization's issuer.
    const org = p.org_id;
    if (typeof org !== 'string' || !isCanonicalUuid(org)) return null;
    const key = this.signingKeys.knownVerificationKey(org, h.kid) ?? (await this.signingKeys.verificationKey(org, h.kid));
    if (!key || !(await verifyEd25519(jws, key))) return null;
    if (p.iss !== this.issuerFor(org) || typeof p.sub !== 'string' || typeof p.jti !== 'string') return null;
    if (!(typeof p.aud === 'string' || (Array.isArray(p.aud) && p.aud.length > 0 && p.aud.every((a) => typeof a === 'string')))) return null;
    if (typeof p.exp !== 'number' || typeof p.iat !== 'number' || typeof p.iat_ms !== 'number' || typeof p.scope !== 'string') return null;
    if (nowMs !== null && p.exp * 1000 <= nowMs) return null;
    // Every token this service signs lives at most MAX_TOKEN_LIFETIME_SECONDS from an iat that is not
    // ahead of the clock (beyond the replicas' skew): a token claiming otherwise was not signed here,
    // and refusing it bounds how long a leaked signing key's forgeries outlive the key's retirement.
    if (p.exp - p.iat > MAX_TOKEN_LIFETIME_SECONDS) return null;
    if (nowMs !== null && p.iat * 1000 > nowMs + REPLICA_CLOCK_SKEW_SECONDS * 1000) return null;
    if (p.sid !== undefined && typeof p.sid !== 'string') return null;
    if (p.act !== undefined && actorChain(p.act) === null) return null;
    const parents = p[PARENT_JTIS_CLAIM];
    if (parents !== undefined && !(Array.isArray(parents) && parents.every((j) => typeof j === 'string'))) return null;
    if (p.cnf !== undefined && !isConfirmation(p.cnf)) return null;
    return p as unknown as AccessTokenClaims;
  }

  /** Full validation: also not revoked, agent active since before issue, session (if any) still open. */
  async validate(token: string, nowMs = Date.now()): Promise<AccessTokenClaims | null> {
    const claims = await this.verifySignature(token, nowMs);
    if (!claims) return null;
    if (await this.state.isRevoked(claims.jti)) return null;
    const agent = await this.activeSince(claims.sub, claims.org_id, claims.iat_ms);
    if (!agent) return null;
    if (claims.sid !== undefined) {
      const s = await this.state.session(claims.sid);
      if (!s || s.agentId !== claims.sub || s.status !== 'active' || s.expiresAtMs <= nowMs) return null;
    }
    // A scope removed from the agent (or, for a delegated token, from any actor of its chain) is
    // gone from its live tokens at once: the token holds what it was issued with and they all hold now.
    let holders: AgentState[] = [agent];
    if (claims.act !== undefined) {
      const actors = await this.delegationHolds(claims);
      if (!actors) return null;
      holders = [agent, ...actors];
    }
    const scopes = claims.scope.split(' ').filter(Boolean);
    const held = holders.reduce((acc, h) => intersectScopes(acc, h.scopes), scopes);
    return held.length === scopes.length && held.every((sc, i) => sc === scopes[i]) ? claims : { ...claims, scope: held.join(' ') };
  }

  /**
   * The token was minted for this control plane: its audience includes the organization's issuer
   * (the audience of a token requested without `resource`) or the server's public URL. A token
   * minted for a relying service (`resource=https://tool.example`) is that service's alone: it does
   * not open sessions or revoke tokens here.
   */
  isForControlPlane(claims: Pick<AccessTokenClaims, 'aud' | 'org_id'>): boolean {
    const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
    const issuer = this.issuerFor(claims.org_id);
    // `https://cp.example.com/` names the public URL as much as `https://cp.example.com` does.
    return aud.some((a) => a === issuer || a.replace(/\/+$/, '') === this.options.baseUrl);
  }

  /**
   * A delegated token holds while every token it was exchanged from is unrevoked, every actor is
   * an active agent of the organization since before the token was issued, and every link of the
   * chain (subject → first actor → … → current actor) is still granted, since before the token
   * was issued: all cached lookups, each dropped on every replica when its row changes.
   */
  private async delegationHolds(claims: AccessTokenClaims): Promise<AgentState[] | null> {
    const chain = actorChain(claims.act);
    if (!chain || chain.length === 0 || chain.length > this.delegationMaxDepth) return null;
    for (const jti of claims.parent_jtis ?? []) if (await this.state.isRevoked(jti)) return null;
    const actors: AgentState[] = [];
    let subject = claims.sub;
    for (const actor of chain) {
      const state = await this.activeSince(actor, claims.org_id, claims.iat_ms);
      if (!state) return null;
      const grantedAtMs = await this.state.delegation(subject, actor);
      if (grantedAtMs === null || claims.iat_ms < grantedAtMs) return null;
      actors.push(state);
      subject = actor;
    }
    return actors;
  }

  /** When `actorId` was allowed to act for `subjectId` (ms), or null when it is not (cached, see AuthState). */
  delegationGrantedAt(subjectId: string, actorId: string): Promise<number | null> {
    return this.state.delegation(subjectId, actorId);
  }

  /** Most actors a delegated token may carry. */
  get delegationMaxDepth(): number {
    return this.options.delegationMaxDepth ?? DELEGATION_MAX_DEPTH_DEFAULT;
  }

  /** The agent is an active agent of `orgId`, and has been since before `issuedAtMs` (a token's exact issue time). */
  private async activeSince(agentId: string, orgId: string, issuedAtMs: number): Promise<AgentState | null> {
    let agent = await this.state.agent(agentId);
    // A token is proof the agent was active when it was issued: one issued after the cached
    // status change means the cache missed a reactivation not yet notified here; re-read.
    if (agent && agent.status !== 'active' && issuedAtMs >= agent.statusChangedAtMs) agent = await this.state.agent(agentId, true);
    return agent && agent.orgId === orgId && agent.status === 'active' && issuedAtMs >= agent.statusChangedAtMs ? agent : null;
  }

  /** RFC 7662 for the caller's organization: another organization's token is simply inactive. */
  async introspect(token: string, orgId: string): Promise<Introspection> {
    const c = await this.validate(token);
    if (!c || c.org_id !== orgId) return { active: false };
    const { iat_ms: _omit, parent_jtis: _internal, ...rest } = c;
    void _omit;
    void _internal;
    return { active: true, token_type: tokenType(c), ...rest };
  }

  private readonly revokeHooks: RevocationHook[] = [];

  /** Runs `hook` inside every first revocation of a token (after its row and audit event are written). */
  onRevoke(hook: RevocationHook): void {
    this.revokeHooks.push(hook);
  }

  /**
   * RFC 7009. Revokes `token` when it is one of ours (expired or not) and the caller may: an API key of
   * its organization, the same agent's token, or (no credential) the token itself; a session token
   * (claims.sid) may revoke only itself. Anything else is a silent no-op, as the RFC requires for
   * invalid tokens. What the revocation hooks change (the sessions the token opened) commits with it.
   */
  async revoke(token: string, by: { apiKey?: AuthenticatedKey; agent?: AccessTokenClaims }, r: { requestId: string | null; clientIp: string | null }): Promise<void> {
    // An expired token is still genuine, and still names the sessions it opened or renewed: those
    // outlive it, so revoking it ends them (while its signing key is published).
    const c = await this.verifyUncached(token, null);
    if (!c) return;
    if (by.apiKey && by.apiKey.organizationId !== c.org_id) return;
    if (by.agent && (by.agent.sub !== c.sub || by.agent.org_id !== c.org_id)) return;
    if (by.agent?.sid !== undefined && by.agent.jti !== c.jti) return;
    // A delegated token revokes only itself and the tokens exchanged from it.
    if (by.agent?.act !== undefined && by.agent.jti !== c.jti && !(c.parent_jtis ?? []).includes(by.agent.jti)) return;
    const ctx: AuditContext = by.apiKey
      ? { organizationId: c.org_id, actorType: 'api_key', actorId: by.apiKey.id, requestId: r.requestId, clientIp: r.clientIp }
      : this.agentContext(c.org_id, tokenHolder(by.agent ?? c), r);
    const expiresAt = new Date(c.exp * 1000);
    const events = await this.audit.withAudit(this.db, async (tx, audit) => {
      const inserted = await ops.insertRevokedToken(tx, { jti: c.jti, organization_id: c.org_id, agent_id: c.sub, expires_at: expiresAt, revoked_at: new Date() });
      const announce: InvalidationEvent[] = [];
      if (inserted) {
        audit.append(ctx, { action: 'token.revoked', targetType: 'agent', targetId: c.sub, data: { jti: c.jti, ...(c.sid ? { sid: c.sid } : {}), ...(c.act ? { act: c.act } : {}) } });
        for (const hook of this.revokeHooks) announce.push(...((await hook(tx, audit, c, ctx)) ?? []));
      }
      return announce;
    });
    this.bus.publishLocal({ kind: 'token', jti: c.jti, expiresAtMs: expiresAt.getTime() });
    for (const e of events) this.bus.publishLocal(e);
  }

  /** Forgets what expired in memory: verified tokens (a lookup would refuse them anyway), expired sessions' and revocations' states. */
  sweepMemory(nowMs = Date.now()): void {
    for (const [token, claims] of this.verified) if (claims.exp * 1000 <= nowMs) this.verified.delete(token);
    this.state.sweep(nowMs);
  }

  /** Entries held in memory (the soak and the tests watch them). */
  memorySizes(): { verifiedTokens: number; sessions: number } {
    return { verifiedTokens: this.verified.size, sessions: this.state.sessionCount };
  }

  /** Deletes expired jti and revocation rows and sessions past their retention (tokens/purge.ts); forgets what expired in memory. */
  async purgeExpired(opts: PurgeOptions = {}): Promise<PurgeCounts> {
    const counts = await purgeAuthRows(this.db, opts);
    this.sweepMemory();
    return counts;
  }
}
