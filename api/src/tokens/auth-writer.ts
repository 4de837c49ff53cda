/**
 * The token endpoint's writes, group-committed. A successful authentication must, atomically:
 * consume the assertion's jti (single use, across replicas), stamp the agent's last_auth_at while
 * it is still active, and append its audit event. Doing that in one transaction per request would
 * serialize every token of an organization on its audit chain head, so concurrent requests are
 * queued and written together: one transaction per batch, one chain-head lock per organization,
 * multi-row statements. The first request of an idle writer is flushed at once; requests arriving
 * during a flush form the next batch. Failed authentications of known agents are audited through
 * the same queue (without delaying the response).
 *
 * Per batch: BEGIN, one statement (lock + stamp agents, check keys, record jtis), one statement
 * (lock chain heads), one statement (insert events, advance heads), COMMIT. Everything the
 * request was authenticated with (agent active, key active, scopes granted) is re-checked there,
 * under the agent row lock, so a cached credential can never outlive its revocation.
 *
 * Lock order (shared with agent transitions and sessions, so no cycles): agent rows (by id) →
 * audit chain heads (by organization id) → session rows.
 */
import type { Knex } from 'knex';
import { uuidv7 } from '../crypto/ids';
import { scopeCovers } from '../../../model/agent';
import * as ops from '../db/operations/tokens';
import type { DbAuditEventRow } from '../db/tables';
import type { Logger } from '../logger';
import { AuditContext, AuditEventInput, eventHash } from '../services/audit';
import { pgErrorCode } from '../services/idempotency';

export interface IssueRequest {
  ctx: AuditContext;
  agentId: string;
  /** The key the assertion was verified with: it must still be active at commit. */
  kid: string;
  /** The scopes requested: they must still be covered by the agent's scopes at commit; null: all of them. */
  scopes: string[] | null;
  jti: string;
  assertionExpiresAt: Date;
  /** The success event; on refusal the writer records `agent.authentication_failed` instead. */
  success: AuditEventInput;
}

export type IssueOutcome =
  | {
      ok: true;
      /** Exact issue time for the token (ms), never before the agent's last status change. */
      issuedAtMs: number;
      /** The scopes granted (as of commit). */
      scopes: string[];
    }
  | { ok: false; reason: 'assertion_replayed' | 'agent_not_active' | 'key_removed' | 'scope_not_granted' };

interface Pending {
  kind: 'issue' | 'audit';
  ctx: AuditContext;
  issue?: IssueRequest;
  event?: AuditEventInput;
  resolve(o: IssueOutcome | null): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 500;

/**
 * Appends events for any number of organizations in one transaction: one statement locks the
 * chain heads (in organization id order), one inserts the events and advances the heads.
 */
export async function appendAuditEvents(tx: Knex.Transaction, events: { ctx: AuditContext; event: AuditEventInput }[]): Promise<void> {
  if (events.length === 0) return;
  const orgIds = [...new Set(events.map((e) => e.ctx.organizationId))].sort();
  const heads = new Map((await ops.lockChainHeads(tx, orgIds)).map((h) => [h.organization_id, { organization_id: h.organization_id, last_seq: Number(h.last_seq), last_hash: h.last_hash }]));
  const rows: DbAuditEventRow[] = [];
  for (const { ctx, event } of events) {
    const head = heads.get(ctx.organizationId);
    if (!head) throw new Error(`organization ${ctx.organizationId} has no audit chain`);
    const base = {
      organization_id: ctx.organizationId, seq: head.last_seq + 1, action: event.action, actor_type: ctx.actorType, actor_id: ctx.actorId,
      target_type: event.targetType ?? null, target_id: event.targetId ?? null, outcome: event.outcome ?? 'success',
      reason: event.reason ?? null, request_id: ctx.requestId, client_ip: ctx.clientIp, data: event.data ?? {}, created_at: new Date(),
    };
    const hash = eventHash(head.last_hash, base);
    rows.push({ ...base, id: uuidv7(), prev_hash: head.last_hash, hash });
    head.last_seq = base.seq;
    head.last_hash = hash;
  }
  await ops.appendAuditEvents(tx, rows, [...heads.values()]);
}

export class AuthWriter {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly db: Knex, private readonly logger: Logger) {}

  /** Consumes the jti, stamps last_auth_at and audits, atomically (group-committed). */
  issue(req: IssueRequest): Promise<IssueOutcome> {
    return new Promise<IssueOutcome | null>((resolve, reject) => this.enqueue({ kind: 'issue', ctx: req.ctx, issue: req, resolve, reject })) as Promise<IssueOutcome>;
  }

  /** Audits a failed authentication; does not wait, errors are logged. */
  recordFailure(ctx: AuditContext, event: AuditEventInput): void {
    this.enqueue({
      kind: 'audit', ctx, event, resolve: () => undefined,
      reject: (err) => this.logger.error({ err, agent_id: event.targetId }, 'could not audit a failed authentication'),
    });
  }

  /** Resolves when everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    if (!this.running) this.running = this.loop().finally(() => (this.running = null));
  }

  private async loop(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const outcomes = await this.flushWithRetry(batch);
        batch.forEach((p, i) => p.resolve(outcomes[i] ?? null));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
  }

  private async flushWithRetry(batch: Pending[]): Promise<(IssueOutcome | null)[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction((tx) => this.flush(tx, batch));
      } catch (err) {
        const code = pgErrorCode(err);
        if (attempt < 3 && (code === '40P01' || code === '40001')) continue;
        throw err;
      }
    }
  }

  private async flush(tx: Knex.Transaction, batch: Pending[]): Promise<(IssueOutcome | null)[]> {
    const outcomes: (IssueOutcome | null)[] = batch.map(() => null);
    const events: { ctx: AuditContext; event: AuditEventInput }[] = [];
    const issues = batch.flatMap((p, i) => (p.issue ? [{ i, req: p.issue }] : []));
    if (issues.length) {
      const r = await ops.authorizeBatch(tx, issues.map(({ req }) => ({ agent_id: req.agentId, kid: req.kid, jti: req.jti, expires_at: req.assertionExpiresAt })), new Date());
      // Taken while holding the agents' row locks: a suspension of these agents commits after us,
      // with a later status_changed_at.
      const now = Date.now();
      const agents = new Map(r.agents.map((a) => [a.id, a]));
      const keys = new Set(r.keys.map((k) => `${k.agent_id} ${k.kid}`));
      const fresh = new Set(r.jtis.map((j) => `${j.agent_id} ${j.jti}`));
      for (const { i, req } of issues) {
        const agent = agents.get(req.agentId);
        if (!agent) outcomes[i] = { ok: false, reason: 'agent_not_active' };
        else if (!keys.has(`${req.agentId} ${req.kid}`)) outcomes[i] = { ok: false, reason: 'key_removed' };
        else if (req.scopes && !req.scopes.every((sc) => scopeCovers(agent.scopes, sc))) outcomes[i] = { ok: false, reason: 'scope_not_granted' };
        // delete: a duplicate within the same batch is a replay too
        else if (!fresh.delete(`${req.agentId} ${req.jti}`)) outcomes[i] = { ok: false, reason: 'assertion_replayed' };
        else outcomes[i] = { ok: true, issuedAtMs: Math.max(now, new Date(agent.status_changed_at).getTime()), scopes: req.scopes ?? agent.scopes };
        const o = outcomes[i]!;
        events.push({
          ctx: req.ctx,
          event: o.ok
            ? { ...req.success, data: { ...req.success.data, scopes: o.scopes } }
            : { action: 'agent.authentication_failed', targetType: 'agent', targetId: req.agentId, outcome: 'failure', reason: o.reason, data: { method: 'private_key_jwt', reason: o.reason } },
        });
      }
    }
    for (const p of batch) if (p.kind === 'audit') events.push({ ctx: p.ctx, event: p.event! });
    await appendAuditEvents(tx, events);
    return outcomes;
  }
}
