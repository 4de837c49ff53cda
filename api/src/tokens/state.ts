/**
 * What introspection needs to know beyond a token's signature — the agent's status, the session's
 * state, whether the jti was revoked — held in memory and dropped on invalidation events.
 *
 * Correctness rules:
 * - caches are consulted only while the invalidation bus is healthy; otherwise every lookup reads
 *   the database;
 * - a value read from the database is cached only if no invalidation happened while it was being
 *   read (a generation counter), so a stale read can never overwrite a newer invalidation;
 * - the revoked-jti set is complete while `revokedReady` (loaded after LISTEN started, then fed by
 *   events); until then, revocation checks read the database.
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

export interface AgentState {
  orgId: string;
  status: AgentStatus;
  /** Tokens whose exact issue time (ms) is before this are invalid. */
  statusChangedAtMs: number;
}

export interface SessionState {
  agentId: string;
  orgId: string;
  status: SessionDbStatus;
  expiresAtMs: number;
}

const MAX_ENTRIES = 100_000;

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

  constructor(private readonly db: Knex, private readonly bus: InvalidationBus, private readonly logger: Logger) {
    bus.subscribe((e) => this.onEvent(e));
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
      case 'session':
        this.generation++;
        this.sessions.delete(e.id);
        break;
      case 'token':
        if (e.expiresAtMs > Date.now()) this.revoked.set(e.jti, e.expiresAtMs);
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
        if (this.bus.healthy) void this.loadRevoked().catch((err) => this.logger.error({ err }, 'reloading revoked tokens failed'));
        break;
      default:
        break;
    }
  }

  private loadRevoked(): Promise<void> {
    if (this.revokedLoading) return this.revokedLoading;
    this.revokedLoading = (async () => {
      try {
        const g = this.generation;
        const rows = await tokenOps.listUnexpiredRevokedTokens(this.db, new Date());
        for (const r of rows) this.revoked.set(r.jti, new Date(r.expires_at).getTime());
        // Ready only if no reset happened meanwhile (a reset schedules its own load).
        if (this.bus.healthy && g === this.generation) this.revokedReady = true;
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
    const state: AgentState = { orgId: row.organization_id, status: row.status, statusChangedAtMs: new Date(row.status_changed_at).getTime() };
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

  /** Drops revoked jtis whose tokens have expired anyway. */
  sweep(now = Date.now()): void {
    for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
  }
}
