/**
 * Bounded sessions: an agent narrows its access to a subset of its scopes, for a limited time and
 * optionally a limited number of operations, and receives a token bound to the session (`sid`).
 * Relying services record each operation; counting is exact under concurrency (one conditional
 * UPDATE), and each operation needs a scope the session AND the agent (as of now) hold, from an
 * agent that is still active. Suspending or revoking the agent ends its sessions in the same
 * transaction (`endSessionsForAgent`, hooked into AgentService transitions).
 *
 * A session lives inside the access tokens its token is minted from: the one that opened it
 * (`parent_jti`) and each one its token was renewed with (`session_renewals`). A session token
 * expires with that parent at the latest, while the session keeps its own bound (TTL of at most
 * an hour): the agent renews the session's token with a fresh access token of its own
 * (`renewToken`). Revoking any of those parents — expired or not — or the session's own token ends
 * the session in the revocation's transaction (`endSessionsForRevokedToken`, hooked into
 * TokenService.revoke), and an ended session stays ended. A session token manages only its own
 * session.
 *
 * Every mutation is an audited unit of work, in its lock order (audit-unit.ts): agent row → audit
 * chain head → session row, so every session mutation takes its organization's chain head
 * (`lockHead`) before it touches a session row. The chain head also orders opening (or renewing)
 * against revoking the parent token: either the revocation sees the new session or renewal (and
 * ends the session) or the opening sees the revocation (and refuses).
 */
import type { Knex } from 'knex';
import { createHash, randomUUID } from 'node:crypto';
import { intersectScopes, scopeCovers } from '../../../model/agent';
import { canonicalUuid, isUuid, requestedId, uuidv7 } from '../crypto/ids';
import * as ops from '../db/operations/sessions';
import { isTokenRevoked } from '../db/operations/tokens';
import type { DbSessionRow } from '../db/tables';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../domain/errors';
import type { InvalidationBus, InvalidationEvent } from '../tokens/invalidation';
import type { AuditContext, AuditLog, AuditUnit } from './audit';
import { decodeIdCursor, encodeCursor } from './cursor';
import { DEFAULT_IDEMPOTENCY_TTL_SECONDS, withIdempotency } from './idempotency';
import { MAX_TOKEN_LIFETIME_SECONDS } from './signing-keys';
import type { AccessTokenClaims, TokenService } from './tokens';
import type { SessionCreateInput, SessionListQueryInput, SessionOperationInput, SessionView } from '../sessions/schemas';
import { iso } from './iso';

export type { SessionEndReason } from '../../../model/statuses';
import type { AgentStatus, SessionEndReason } from '../../../model/statuses';

/** Why an operation was refused (the `details` of the 403). */
export type OperationDenial = 'scope_not_in_session' | 'scope_revoked' | 'budget_exhausted' | 'session_expired' | 'session_ended' | 'agent_inactive';

/**
 * An agent calling with its access token: it sees only its own sessions, and a session token
 * (`sessionId`) only its own session.
 */
export interface SessionCaller {
  agentId: string;
  sessionId?: string;
}

export function sessionCaller(claims: Pick<AccessTokenClaims, 'sub' | 'sid'>): SessionCaller {
  return claims.sid === undefined ? { agentId: claims.sub } : { agentId: claims.sub, sessionId: claims.sid };
}

function visibleTo(row: Pick<DbSessionRow, 'id' | 'agent_id'>, caller: SessionCaller | undefined): boolean {
  return caller === undefined || (row.agent_id === caller.agentId && (caller.sessionId === undefined || row.id === caller.sessionId));
}


export function sessionStatus(r: Pick<DbSessionRow, 'status' | 'expires_at'>, nowMs = Date.now()): SessionView['status'] {
  return r.status === 'active' && new Date(r.expires_at).getTime() <= nowMs ? 'expired' : r.status;
}

export function toSessionView(r: DbSessionRow): SessionView {
  return {
    id: r.id, agent_id: r.agent_id, scopes: r.scopes, max_operations: r.max_operations, operations_used: r.operations_used,
    status: sessionStatus(r), purpose: r.purpose, created_at: iso(r.created_at)!, expires_at: iso(r.expires_at)!,
    ended_at: iso(r.ended_at), end_reason: r.end_reason,
  };
}

function notFound(): NotFoundError {
  return new NotFoundError('Session not found');
}

const DENIAL_MESSAGES: Record<OperationDenial, string> = {
  scope_not_in_session: 'The scope is not part of this session',
  scope_revoked: 'The session\'s agent no longer holds this scope',
  budget_exhausted: 'The session\'s operation budget is spent',
  session_expired: 'The session has expired',
  session_ended: 'The session has ended',
  agent_inactive: 'The session\'s agent is no longer active',
};

/** A session that can no longer be used, by its status, as the denial the API reports. */
const OVER: Partial<Record<SessionView['status'], OperationDenial>> = { ended: 'session_ended', exhausted: 'budget_exhausted', expired: 'session_expired' };

const tokenScopes = (claims: Pick<AccessTokenClaims, 'scope'>): string[] => claims.scope.split(' ').filter(Boolean);

function refuseSessionToken(claims: AccessTokenClaims, what: string): void {
  if (claims.sid !== undefined) throw new ForbiddenError(`A session token cannot ${what}; use the agent's access token`, [{ path: 'authorization', message: 'session_token' }]);
}

/**
 * Inside an opening's or a renewal's unit of work, in its lock order: share-locks the agent row (a
 * concurrent status or scope change commits first, or waits for this unit), requires the agent
 * active since before the caller's token was issued, takes the organization's chain head, then
 * requires the caller's token unrevoked — after the chain head, so that a revocation that
 * committed first is seen, and one that commits later finds what this unit records and ends it
 * (endSessionsForRevokedToken). Returns the agent's current scopes.
 */
async function admitCaller(tx: Knex.Transaction, audit: AuditUnit, claims: AccessTokenClaims): Promise<string[]> {
  const agent = await ops.getAgentForShare(tx, claims.org_id, claims.sub);
  if (!agent || agent.status !== 'active' || claims.iat_ms < new Date(agent.status_changed_at).getTime()) {
    throw new ForbiddenError('The agent is not active', [{ path: 'agent', message: 'agent_inactive' }]);
  }
  await audit.lockHead(claims.org_id);
  if (await isTokenRevoked(tx, claims.jti)) throw new UnauthenticatedError('The access token is invalid, expired or revoked');
  return agent.scopes;
}

export class SessionService {
  constructor(
    private readonly db: Knex,
    private readonly tokens: TokenService,
    private readonly bus: InvalidationBus,
    private readonly audit: AuditLog,
    private readonly idempotencyTtlMs: number = DEFAULT_IDEMPOTENCY_TTL_SECONDS * 1000,
  ) {}

  /**
   * Opens a session for the agent authenticated by `claims` (a plain, non-session access token).
   * With an Idempotency-Key, a retry returns the same session (and a fresh token bound to it: the
   * stored response never holds a token).
   */
  async create(
    claims: AccessTokenClaims,
    input: SessionCreateInput,
    r: { requestId: string | null; clientIp: string | null },
    idempotencyKey?: string,
  ): Promise<{ session: SessionView & { access_token: string }; replayed: boolean }> {
    refuseSessionToken(claims, 'open sessions');
    const outside = input.scopes.filter((s) => !scopeCovers(tokenScopes(claims), s));
    if (outside.length) {
      throw new ForbiddenError('The session may only narrow the token\'s scopes', outside.map((s) => ({ path: 'scopes', message: `"${s}" is not granted to this token` })));
    }
    const ctx = this.tokens.agentContext(claims.org_id, claims.sub, r);
    // The key first: a failure after the commit would leave an audited session behind an error.
    const sign = await this.tokens.signer(claims.org_id);
    const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
    const result = await withIdempotency<SessionView>(this.db, this.audit, { orgId: claims.org_id, scope: `sessions.create:${claims.sub}`, key: idempotencyKey, requestHash, ttlMs: this.idempotencyTtlMs }, async (tx, audit) => {
      const agentScopes = await admitCaller(tx, audit, claims);
      const revoked = input.scopes.filter((sc) => !scopeCovers(agentScopes, sc));
      if (revoked.length) {
        throw new ForbiddenError('The agent no longer holds every requested scope', revoked.map((sc) => ({ path: 'scopes', message: `"${sc}" is no longer granted to the agent` })));
      }
      const now = new Date();
      const row: DbSessionRow = {
        id: uuidv7(now.getTime()), organization_id: claims.org_id, agent_id: claims.sub, scopes: input.scopes,
        max_operations: input.max_operations ?? null, operations_used: 0, status: 'active', purpose: input.purpose ?? null,
        created_at: now, expires_at: new Date(now.getTime() + input.ttl_seconds * 1000), ended_at: null, end_reason: null,
        parent_jti: claims.jti,
      };
      await ops.insertSession(tx, row);
      audit.append(ctx, {
        action: 'session.created', targetType: 'session', targetId: row.id,
        data: { agent_id: row.agent_id, scopes: row.scopes, ttl_seconds: input.ttl_seconds, max_operations: row.max_operations, purpose: row.purpose, parent_jti: row.parent_jti },
      });
      const view = toSessionView(row);
      return { stored: view, response: view };
    });
    if (!result.replayed) return { session: { ...result.response, access_token: await this.signSessionToken(sign, claims, result.response, result.response.scopes) }, replayed: false };
    const row = await ops.getSession(this.db, claims.org_id, result.response.id);
    const view = row ? toSessionView(row) : result.response;
    // A retry with another of the agent's tokens: the token it gets lives inside that token too.
    if (row && row.parent_jti !== claims.jti && view.status === 'active') return { session: await this.renewToken(claims, view.id, r), replayed: true };
    return { session: { ...view, access_token: await this.signSessionToken(sign, claims, view, view.scopes) }, replayed: true };
  }

  /**
   * A fresh token for an open session of the caller's agent, minted from the caller's (plain)
   * access token and bounded by it: it expires with that token at the latest, and carries the
   * session's scopes that the token (and the agent, now) still holds. The session then lives
   * inside that token too: revoking it ends the session (session_renewals). A session that has
   * ended — its opener revoked, its agent suspended — stays ended: it is refused (403).
   */
  async renewToken(claims: AccessTokenClaims, id: string, r: { requestId: string | null; clientIp: string | null }): Promise<SessionView & { access_token: string }> {
    refuseSessionToken(claims, 'renew a session\'s token');
    const requested = requestedId(id, notFound);
    const ctx = this.tokens.agentContext(claims.org_id, claims.sub, r);
    const sign = await this.tokens.signer(claims.org_id);
    const { view, scopes } = await this.audit.withAudit(this.db, async (tx, audit) => {
      const agentScopes = await admitCaller(tx, audit, claims);
      // Under the chain head, which every session mutation takes first: the state read is current.
      const row = await ops.getSession(tx, claims.org_id, requested);
      if (!row || row.agent_id !== claims.sub) throw notFound();
      const view = toSessionView(row);
      const over = OVER[view.status];
      if (over) throw new ForbiddenError(DENIAL_MESSAGES[over], [{ path: 'reason', message: over }]);
      const scopes = intersectScopes(intersectScopes(row.scopes, tokenScopes(claims)), agentScopes);
      if (scopes.length === 0) {
        throw new ForbiddenError('The access token holds none of the session\'s scopes', row.scopes.map((sc) => ({ path: 'scopes', message: `"${sc}" is not granted to this token` })));
      }
      await ops.insertSessionRenewal(tx, { session_id: row.id, jti: claims.jti, organization_id: claims.org_id, created_at: new Date() });
      audit.append(ctx, { action: 'session.token_renewed', targetType: 'session', targetId: row.id, data: { agent_id: row.agent_id, scopes, parent_jti: claims.jti } });
      return { view, scopes };
    });
    return { ...view, access_token: await this.signSessionToken(sign, claims, view, scopes) };
  }

  /**
   * A token bound to the session (`sid`), minted from the caller's access token: the same issuer,
   * audience and DPoP key (cnf; a session narrows its parent, never re-targets it, and a session
   * of a sender-constrained token is constrained to the same key), and an expiry at the earliest
   * of the session's end, the parent token's expiry and the longest token lifetime.
   */
  private signSessionToken(sign: (claims: AccessTokenClaims) => Promise<string>, parent: AccessTokenClaims, view: SessionView, scopes: string[]): Promise<string> {
    // The parent was issued at or after the agent's last status change, and now is later.
    const issuedAtMs = Math.max(Date.now(), parent.iat_ms);
    const iat = Math.floor(issuedAtMs / 1000);
    const exp = Math.min(Math.floor(new Date(view.expires_at).getTime() / 1000), parent.exp, iat + MAX_TOKEN_LIFETIME_SECONDS);
    return sign({
      iss: this.tokens.issuerFor(parent.org_id), sub: parent.sub, aud: parent.aud, client_id: parent.sub, scope: scopes.join(' '),
      jti: randomUUID(), iat, iat_ms: issuedAtMs, exp, org_id: parent.org_id, sid: view.id, ...(parent.cnf ? { cnf: parent.cnf } : {}),
    });
  }

  /** With `caller`, only what that agent (or session token) may see; anything else is not found. */
  async get(orgId: string, id: string, caller?: SessionCaller): Promise<SessionView> {
    if (!isUuid(id)) throw notFound();
    const row = await ops.getSession(this.db, orgId, id);
    if (!row || !visibleTo(row, caller)) throw notFound();
    return toSessionView(row);
  }

  /** With `caller`, only that agent's sessions (a session token: its own session), whatever the query asks. */
  async list(orgId: string, q: SessionListQueryInput, caller?: SessionCaller): Promise<{ data: SessionView[]; next_cursor: string | null }> {
    const afterId = q.cursor !== undefined ? decodeIdCursor('s1', q.cursor) : undefined;
    const wanted = q.agent_id === undefined ? undefined : canonicalUuid(q.agent_id);
    if (wanted === null) return { data: [], next_cursor: null };
    if (caller && wanted !== undefined && wanted !== caller.agentId) return { data: [], next_cursor: null };
    const agentId = caller?.agentId ?? wanted;
    const rows = await ops.listSessions(this.db, orgId, { agentId, sessionId: caller?.sessionId, status: q.status, afterId, now: new Date(), limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    return { data: page.map(toSessionView), next_cursor: rows.length > q.limit ? encodeCursor('s1', page[page.length - 1]!.id) : null };
  }

  /**
   * Records one operation. The scope must be covered by the session's scopes and by the agent's
   * current scopes, and the agent must be active (its row is share-locked, so a concurrent scope
   * change or suspension is ordered before or after the operation, never across it). Refusals are
   * audited too (`session.operation_denied`) and committed before the 403 is raised.
   */
  async recordOperation(ctx: AuditContext, id: string, input: SessionOperationInput): Promise<SessionView> {
    const requested = requestedId(id, notFound);
    const result = await this.audit.withAudit(this.db, async (tx, audit) => {
      const before = await ops.getSession(tx, ctx.organizationId, requested);
      if (!before) throw notFound();
      // Lock order: agent row, then chain head (the session's agent and scopes never change).
      const agent = await ops.getAgentForShare(tx, ctx.organizationId, before.agent_id);
      await audit.lockHead(ctx.organizationId);
      let denial: OperationDenial | null = null;
      let row: DbSessionRow | undefined;
      if (!scopeCovers(before.scopes, input.scope)) denial = 'scope_not_in_session';
      else if (!agent || agent.status !== 'active') denial = 'agent_inactive';
      else if (!scopeCovers(agent.scopes, input.scope)) denial = 'scope_revoked';
      else {
        row = await ops.consumeOperation(tx, ctx.organizationId, before.id, new Date());
        if (!row) {
          const current = (await ops.getSession(tx, ctx.organizationId, before.id))!;
          denial = current.status === 'ended'
            ? (current.end_reason === 'agent_suspended' || current.end_reason === 'agent_revoked' ? 'agent_inactive' : 'session_ended')
            : current.status === 'exhausted' || (current.max_operations !== null && current.operations_used >= current.max_operations)
              ? 'budget_exhausted'
              : 'session_expired';
        }
      }
      const base = { targetType: 'session', targetId: before.id, data: { agent_id: before.agent_id, scope: input.scope, ...(input.description ? { description: input.description } : {}) } };
      if (denial) {
        audit.append(ctx, { ...base, action: 'session.operation_denied', outcome: 'failure', reason: denial });
        return { denial, row: undefined };
      }
      audit.append(ctx, { ...base, action: 'session.operation', data: { ...base.data, operations_used: row!.operations_used, max_operations: row!.max_operations } });
      return { denial: null, row: row! };
    });
    if (result.denial) throw new ForbiddenError(DENIAL_MESSAGES[result.denial], [{ path: 'reason', message: result.denial }]);
    // The row's id, as the session cache holds it (keyed by the tokens' `sid`).
    if (result.row!.status !== 'active') this.bus.publishLocal({ kind: 'session', id: result.row!.id });
    return toSessionView(result.row!);
  }

  /** Ends a session (idempotent). With `caller`, only what that agent (or session token) may see. */
  async end(ctx: AuditContext, id: string, caller?: SessionCaller): Promise<SessionView> {
    const requested = requestedId(id, notFound);
    if (caller?.sessionId !== undefined && caller.sessionId !== requested) throw notFound();
    const reason: SessionEndReason = caller ? 'ended_by_agent' : 'ended_by_api_key';
    const row = await this.audit.withAudit(this.db, async (tx, audit) => {
      await audit.lockHead(ctx.organizationId);
      const ended = await ops.endSession(tx, ctx.organizationId, requested, new Date(), reason, caller?.agentId);
      if (!ended) {
        const existing = await ops.getSession(tx, ctx.organizationId, requested);
        if (!existing || !visibleTo(existing, caller)) throw notFound();
        return existing; // already ended
      }
      audit.append(ctx, { action: 'session.ended', targetType: 'session', targetId: ended.id, reason, data: { agent_id: ended.agent_id, operations_used: ended.operations_used } });
      return ended;
    });
    // The row's id, as the session cache holds it (keyed by the tokens' `sid`): the session's token is refused before this answers.
    this.bus.publishLocal({ kind: 'session', id: row.id });
    return toSessionView(row);
  }

  /**
   * Inside a token's revocation unit of work (TokenService.onRevoke), after the revocation row is
   * written: ends the open sessions that token opened, and the session of a session token,
   * audited as the revoker. Returns the invalidations to announce in this process after commit
   * (other replicas hear of the status change from the sessions trigger).
   */
  async endSessionsForRevokedToken(tx: Knex.Transaction, audit: AuditUnit, ctx: AuditContext, claims: AccessTokenClaims): Promise<InvalidationEvent[]> {
    await audit.lockHead(claims.org_id);
    const at = new Date();
    const ended: { id: string; agent_id: string; reason: SessionEndReason }[] = (await ops.endSessionsByParent(tx, claims.org_id, claims.jti, at, 'parent_token_revoked'))
      .map((r) => ({ ...r, reason: 'parent_token_revoked' }));
    if (claims.sid !== undefined && isUuid(claims.sid)) {
      const own = await ops.endSession(tx, claims.org_id, claims.sid, at, 'session_token_revoked', claims.sub);
      if (own) ended.push({ id: own.id, agent_id: own.agent_id, reason: 'session_token_revoked' });
    }
    for (const e of ended) {
      audit.append(ctx, { action: 'session.ended', targetType: 'session', targetId: e.id, reason: e.reason, data: { agent_id: e.agent_id, token_jti: claims.jti } });
    }
    return ended.map((e) => ({ kind: 'session', id: e.id }));
  }

  /** Inside an agent's suspension/revocation unit of work (it holds the agent row): ends its open sessions, audited. */
  async endSessionsForAgent(tx: Knex.Transaction, audit: AuditUnit, ctx: AuditContext, agentId: string, to: Exclude<AgentStatus, 'active'>): Promise<void> {
    const reason: SessionEndReason = to === 'suspended' ? 'agent_suspended' : 'agent_revoked';
    await audit.lockHead(ctx.organizationId);
    const ids = await ops.endAgentSessions(tx, agentId, new Date(), reason);
    for (const id of ids) audit.append(ctx, { action: 'session.ended', targetType: 'session', targetId: id, reason, data: { agent_id: agentId } });
  }
}

