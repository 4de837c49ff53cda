/**
 * What introspection needs to know beyond a token's signature — the agent's status and scopes, the
 * session's state, whether the jti was revoked — held in memory and dropped on invalidation events.
 *
 * Correctness rules:
 * - caches are consulted only while the invalidation bus is healthy; otherwise every lookup reads
 *   the database;
 * - a value read from the database is cached only if no invalidation happened while it was being
 *   read (a generation counter), so a stale read can never overwrite a newer invalidation;
 * - the revoked-jti set is complete while `revokedReady` (loaded after LISTEN started, then fed by
 *   events); until then, revocation checks read the database;
 * - the revoked-jti set is bounded: any database role can NOTIFY on the channel, so an event's
 *   expiry is capped at the longest token lifetime, and an event that would exceed the bound is
 *   not held but makes the set incomplete (revocation checks read the database) until the set,
 *   swept of expired entries, can be loaded whole again. A revocation is never dropped: a jti not
 *   in memory is looked up in the database unless the set is known complete.
 */
import type { Knex } from 'knex';
import * as tokenOps from '../db/operations/tokens';
import * as sessionOps from '../db/operations/sessions';
import * as delegationOps from '../db/operations/delegations';
import type { SessionDbStatus } from '../db/tables';
import type { Logger } from '../logger';
import type { InvalidationBus, InvalidationEvent } from './invalidation';
import { newCacheStats } from '../metrics/metrics';
import type { AgentStatus } from '../../../model/statuses';
import { ACCESS_TOKEN_TTL_MAX_SECONDS } from '../../../model/limits';

export interface AgentState {
  orgId: string;
  status: AgentStatus;
  /** Tokens whose exact issue time (ms) is before this are invalid. */
  statusChangedAtMs: number;
  /** The agent's scopes now: a live token holds no scope outside them. */
  scopes: string[];
}

export interface SessionState {
  agentId: string;
  orgId: string;
  status: SessionDbStatus;
  expiresAtMs: number;
}

const MAX_ENTRIES = 100_000;
/** Revoked jtis held in memory at most (beyond it, revocation checks read the database). */
export const MAX_REVOKED_ENTRIES = 100_000;
/** No genuine revocation outlives this: a token lives at most the longest lifetime (plus clock skew). */
const MAX_REVOKED_LIFETIME_MS = (ACCESS_TOKEN_TTL_MAX_SECONDS + 120) * 1000;

export interface AuthStateOptions {
  /** The bound of the revoked-jti set (default MAX_REVOKED_ENTRIES). */
  maxRevoked?: number;
}

/** The cache key of a (subject, actor) pair. */
const pair = (subjectId: string, actorId: string) => `${subjectId} ${actorId}`;

export class AuthState {
  private readonly agents = new Map<string, AgentState>();
  private readonly sessions = new Map<string, SessionState>();
  /** (subject, actor) → when the grant was made (ms), or null: no grant. Absence is cached too (the exchange asks). */
  private readonly delegations = new Map<string, number | null>();
  private readonly revoked = new Map<string, number>();
  private revokedReady = false;
  private revokedLoading: Promise<void> | null = null;
  private generation = 0;
  /** Lookups answered from memory (hits), read and cached (misses), read because the bus was unhealthy (bypasses). */
  readonly stats = { agents: newCacheStats(), sessions: newCacheStats(), revoked: newCacheStats(), delegations: newCacheStats() };

  private readonly maxRevoked: number;
  /** When a notification last found the revoked set full and swept it. */
  private fullSweepAtMs = 0;

  constructor(private readonly db: Knex, private readonly bus: InvalidationBus, private readonly logger: Logger, options: AuthStateOptions = {}) {
    this.maxRevoked = options.maxRevoked ?? MAX_REVOKED_ENTRIES;
    bus.subscribe((e) => this.onEvent(e));
  }

  /** How many revoked jtis are held in memory (bounded by `maxRevoked`). */
  get revokedHeld(): number {
    return this.revoked.size;
  }

  /** Whether revocation checks may answer from memory alone (the set is complete). */
  get revokedComplete(): boolean {
    return this.revokedReady;
  }

  /** Loads the revoked-jti set; call after the bus started listening. */
  async start(): Promise<void> {
    await this.loadRevoked();
  }

  private onEvent(e: InvalidationEvent): void {
    switch (e.kind) {
      case 'agent':
        this.generation++;
        this.agents.delete(e.id);
        // Sessions end in the same transaction as a suspension or revocation.
        this.sessions.clear();
        break;
      case 'credentials':
        // Its scopes may have changed.
        this.generation++;
        this.agents.delete(e.id);
        break;
      case 'session':
        this.generation++;
        this.sessions.delete(e.id);
        break;
      case 'token':
        this.holdRevoked(e.jti, e.expiresAtMs);
        break;
      case 'link':
        // A stale link refused the set's readiness (or a load): try again now that it delivers.
        if (e.fresh && !this.revokedReady) this.reloadRevoked();
        break;
      case 'delegation':
        this.generation++;
        this.delegations.delete(pair(e.subjectId, e.actorId));
        break;
      case 'reset':
        this.generation++;
        this.agents.clear();
        this.sessions.clear();
        this.delegations.clear();
        this.revokedReady = false;
        this.reloadRevoked();
        break;
      default:
        break;
    }
  }

  /**
   * Holds a revoked jti until its token expires. Over the bound the jti is not held and the set
   * stops being complete: revocation checks then read the database, so nothing is lost.
   */
  private holdRevoked(jti: string, expiresAtMs: number, now = Date.now()): boolean {
    const exp = Math.min(expiresAtMs, now + MAX_REVOKED_LIFETIME_MS);
    if (exp <= now) return true;
    if (this.revoked.size >= this.maxRevoked && !this.revoked.has(jti)) {
      // A sweep walks the whole set: at most once a second, however many notifications find it full.
      if (now - this.fullSweepAtMs >= 1000) {
        this.fullSweepAtMs = now;
        this.sweep(now);
      }
      if (this.revoked.size >= this.maxRevoked) {
        if (this.revokedReady) this.logger.warn({ bound: this.maxRevoked }, 'revoked-token set is full; revocation checks read the database until it has room again');
        this.revokedReady = false;
        return false;
      }
    }
    this.revoked.set(jti, exp);
    return true;
  }

  private reloadRevoked(): void {
    if (this.bus.healthy) void this.loadRevoked().catch((err) => this.logger.error({ err }, 'reloading revoked tokens failed'));
  }

  private loadRevoked(): Promise<void> {
    if (this.revokedLoading) return this.revokedLoading;
    this.revokedLoading = (async () => {
      try {
        const g = this.generation;
        const now = new Date();
        // One row more than the bound tells that the whole set cannot be held.
        const rows = await tokenOps.listUnexpiredRevokedTokens(this.db, now, this.maxRevoked + 1);
        let complete = rows.length <= this.maxRevoked;
        for (const r of rows) {
          if (!complete || !this.holdRevoked(r.jti, new Date(r.expires_at).getTime(), now.getTime())) {
            complete = false;
            break;
          }
        }
        // Ready only if no reset happened meanwhile (a reset schedules its own load).
        if (complete && this.bus.healthy && g === this.generation) this.revokedReady = true;
      } finally {
        this.revokedLoading = null;
      }
    })();
    return this.revokedLoading;
  }

  private get cacheable(): boolean {
    return this.bus.healthy;
  }

  /** `fresh` skips the cache (the caller holds evidence that the cached state is outdated). */
  async agent(id: string, fresh = false): Promise<AgentState | undefined> {
    if (this.cacheable && !fresh) {
      const hit = this.agents.get(id);
      if (hit) {
        this.stats.agents.hits++;
        return hit;
      }
      this.stats.agents.misses++;
    } else this.stats.agents.bypasses++;
    const g = this.generation;
    const row = await tokenOps.getAgentState(this.db, id);
    if (!row) return undefined;
    const state: AgentState = { orgId: row.organization_id, status: row.status, statusChangedAtMs: new Date(row.status_changed_at).getTime(), scopes: row.scopes };
    if (this.cacheable && g === this.generation) {
      if (this.agents.size >= MAX_ENTRIES) this.agents.clear();
      this.agents.set(id, state);
    }
    return state;
  }

  async session(id: string): Promise<SessionState | undefined> {
    if (this.cacheable) {
      const hit = this.sessions.get(id);
      if (hit) {
        this.stats.sessions.hits++;
        return hit;
      }
      this.stats.sessions.misses++;
    } else this.stats.sessions.bypasses++;
    const g = this.generation;
    const row = await sessionOps.getSessionState(this.db, id);
    if (!row) return undefined;
    const state: SessionState = { agentId: row.agent_id, orgId: row.organization_id, status: row.status, expiresAtMs: new Date(row.expires_at).getTime() };
    if (this.cacheable && g === this.generation) {
      if (this.sessions.size >= MAX_ENTRIES) this.sessions.clear();
      this.sessions.set(id, state);
    }
    return state;
  }

  /** When `actorId` was allowed to act for `subjectId` (ms since epoch), or null when it is not. */
  async delegation(subjectId: string, actorId: string): Promise<number | null> {
    const key = pair(subjectId, actorId);
    if (this.cacheable) {
      const hit = this.delegations.get(key);
      if (hit !== undefined) {
        this.stats.delegations.hits++;
        return hit;
      }
      this.stats.delegations.misses++;
    } else this.stats.delegations.bypasses++;
    const g = this.generation;
    const createdAt = await delegationOps.getDelegationCreatedAt(this.db, subjectId, actorId);
    const value = createdAt ? createdAt.getTime() : null;
    if (this.cacheable && g === this.generation) {
      if (this.delegations.size >= MAX_ENTRIES) this.delegations.clear();
      this.delegations.set(key, value);
    }
    return value;
  }

  async isRevoked(jti: string): Promise<boolean> {
    if (this.revoked.has(jti) || (this.cacheable && this.revokedReady)) {
      this.stats.revoked.hits++;
      return this.revoked.has(jti);
    }
    this.stats.revoked.bypasses++;
    return tokenOps.isTokenRevoked(this.db, jti);
  }

  /** Session states held in memory. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Drops revoked jtis whose tokens have expired anyway (a set that overflowed is loaded again once
   * half of it is free) and the states of sessions that have expired: an expired session admits no
   * token, so its entry would only hold memory until the bound emptied the map, and a replica's
   * memory would follow the sessions it has seen rather than the live ones.
   */
  sweep(now = Date.now()): void {
    for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
    for (const [id, s] of this.sessions) if (s.expiresAtMs <= now) this.sessions.delete(id);
    if (!this.revokedReady && !this.revokedLoading && this.revoked.size <= this.maxRevoked / 2) this.reloadRevoked();
  }
}
