/**
 * The token endpoint's writes, group-committed. A successful authentication must, atomically:
 * consume the assertion's jti (single use, across replicas; a workload's platform token is not
 * consumed, services/federation.ts), stamp the agent's last_auth_at while
 * it is still active, and append its audit event. Doing that in one transaction per request would
 * serialize every token of an organization on its audit chain head, so concurrent requests are
 * queued and written together: one transaction per batch, one chain-head lock per organization,
 * multi-row statements. The first request of an idle writer is flushed at once; requests arriving
 * during a flush form the next batch. Failed authentications of known agents are audited through
 * the same queue (without delaying the response), coalesced per agent, reason and window
 * (FailureAuditCoalescer), so a flood of failures writes a bounded number of events.
 *
 * Per batch: BEGIN, one statement (lock agents, check keys, record jtis, stamp the agents whose
 * request passed), one statement (lock chain heads), one statement (insert events, advance heads),
 * COMMIT. Everything the
 * request was authenticated with (agent active, key or federated credential active, scopes granted) is re-checked there,
 * under the agent row lock, so a cached credential can never outlive its revocation.
 *
 * One request cannot fail its batch: a batch the database refuses because of a value is split
 * until the request carrying it fails alone (the client authentication already refuses claims
 * outside the text rule; this holds for whatever slips past it).
 *
 * Each batch is one audited unit of work (services/audit-unit.ts), in its one lock order: agent
 * rows (by id) → audit chain heads (by organization id) → session rows.
 *
 * Speculation: those five statements are five round trips, and while the event loop is busy each
 * reply waits its turn behind other requests' work, which makes round trips, not CPU, the bound on
 * the endpoint's throughput. When every request of a batch is expected to pass (the agent's
 * scopes as the request saw them, no jti twice, the organizations' chain heads as this process last
 * committed them), the batch is written by one statement that checks all of it under the same
 * locks and raises when anything differs (db/operations/tokens.ts authorizeAndAppend), writing
 * nothing; the batch then takes the locking path, which decides each request. Every organization
 * of a refused batch is not speculated on for a second (another replica writing its chain would
 * otherwise cost every batch a wasted statement); the statement cannot say whose request broke it,
 * and the locking path costs speed, not a guarantee.
 */
import type { Knex } from 'knex';
import { scopeCovers } from '../../../model/agent';
import * as ops from '../db/operations/tokens';
import type { Logger } from '../logger';
import type { AuditContext, AuditEventInput, AuditLog, AuditUnit, QueuedAuditEvent } from '../services/audit';
import { isRetryableTransactionError, isSpeculationRefused, isValueRefusal, statementDidNotCommit } from '../db/errors';
import { DEFAULT_FAILURE_AUDIT_WINDOW_MS, FailureAuditCoalescer } from './failure-audit';

export interface IssueRequest {
  ctx: AuditContext;
  /** The client-authentication method (audited with a refusal). */
  method: string;
  agentId: string;
  /** The key the assertion was verified with: it must still be active at commit. */
  kid: string;
  /**
   * Set for a platform token (federation): this federated credential, not the key, must still be
   * active at commit, and the jti is not consumed (a platform token may be presented again).
   */
  federatedCredentialId?: string | undefined;
  /** The scopes requested: they must still be covered by the agent's scopes at commit; null: all of them. */
  scopes: string[] | null;
  /** The agent's scopes as the request was checked against them (a speculative write assumes them unchanged). */
  agentScopes: string[];
  jti: string;
  assertionExpiresAt: Date;
  /** The success event; on refusal the writer records (coalesced) `agent.authentication_failed` instead. */
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
  | { ok: false; reason: 'assertion_replayed' | 'agent_not_active' | 'key_removed' | 'credential_removed' | 'scope_not_granted' };

interface Pending {
  kind: 'issue' | 'audit';
  ctx: AuditContext;
  issue?: IssueRequest;
  event?: AuditEventInput;
  resolve(o: IssueOutcome | null): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 500;
/** After a refused speculation, how long an organization's batches take the locking path. */
const SPECULATION_COOLDOWN_MS = 1000;
const MAX_COOLDOWNS = 10_000;

export interface AuthWriterOptions {
  /** Failure audit events per (agent, reason): at most one per window. */
  failureWindowMs?: number;
  /** The clock of the failure windows and of the speculation cool-downs (tests move it). */
  now?: () => number;
}

export class AuthWriter {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  private readonly failures: FailureAuditCoalescer;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /** Organization id → until when (ms) its batches are not speculated on. */
  private readonly cooldowns = new Map<string, number>();
  /** Batches written by one speculative statement, and speculations refused. */
  readonly stats = { speculated: 0, refused: 0 };

  constructor(private readonly db: Knex, private readonly audit: AuditLog, private readonly logger: Logger, options: AuthWriterOptions = {}) {
    this.failures = new FailureAuditCoalescer(options.failureWindowMs ?? DEFAULT_FAILURE_AUDIT_WINDOW_MS);
    this.now = options.now ?? Date.now;
  }

  /** Consumes the jti, stamps last_auth_at and audits, atomically (group-committed). */
  issue(req: IssueRequest): Promise<IssueOutcome> {
    return new Promise<IssueOutcome | null>((resolve, reject) => this.enqueue({ kind: 'issue', ctx: req.ctx, issue: req, resolve, reject })) as Promise<IssueOutcome>;
  }

  /**
   * Audits a failed authentication, coalesced (see FailureAuditCoalescer); `throttled`: the failure
   * was over its budget (counted in the summary). Does not wait; errors are logged.
   */
  recordFailure(ctx: AuditContext, event: AuditEventInput, throttled = false): void {
    const now = this.now();
    const r = this.failures.admit(ctx, event, throttled, now);
    if ('write' in r) this.enqueueAudit(r.write.ctx, r.write.event);
    else this.schedule(r.closesAt, now);
  }

  /** Queues the summaries of the failure windows that have closed (the timer calls this). */
  flushDueFailures(): void {
    const now = this.now();
    for (const e of this.failures.closeDue(now)) this.enqueueAudit(e.ctx, e.event);
    const next = this.failures.nextDue();
    if (next !== undefined) this.schedule(next, now);
  }

  /** Resolves when everything queued so far is written. */
  async settle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Writes the counted failures of open windows too, then everything queued (shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      await this.settle(); // its refusals may count new failures
      const rest = this.failures.closeDue(this.now(), true);
      if (rest.length === 0) break;
      for (const e of rest) this.enqueueAudit(e.ctx, e.event);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private schedule(due: number, now: number): void {
    if (due >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.flushDueFailures();
    }, Math.max(0, due - now));
    this.timer.unref();
  }

  private enqueueAudit(ctx: AuditContext, event: AuditEventInput): void {
    this.enqueue({
      kind: 'audit', ctx, event, resolve: () => undefined,
      reject: (err) => this.logger.error({ err, agent_id: event.targetId }, 'could not audit a failed authentication'),
    });
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    if (!this.running) this.running = this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length) await this.write(this.queue.splice(0, MAX_BATCH));
    } finally {
      // In the same synchronous step as the empty-queue check: a request enqueued after it must find
      // no loop running and start one (cleared a microtask later, it would wait in the queue forever).
      this.running = null;
    }
  }

  /**
   * Writes one batch and settles its requests. A batch the database refuses because of a value in
   * it is split in halves and each half written on its own, down to the one request that carries
   * the value, which fails alone: one request can never fail the others of its batch (other
   * organizations' tokens and audit events included).
   */
  private async write(batch: Pending[]): Promise<void> {
    let outcomes: (IssueOutcome | null)[];
    try {
      outcomes = (await this.speculate(batch)) ?? (await this.flushWithRetry(batch));
    } catch (err) {
      if (batch.length > 1 && isValueRefusal(err)) {
        const half = Math.ceil(batch.length / 2);
        await this.write(batch.slice(0, half));
        await this.write(batch.slice(half));
        return;
      }
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => p.resolve(outcomes[i] ?? null));
    // Refusals are audited after the commit, like the other failures (and coalesced with them).
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (p.issue && o && !o.ok) {
        this.recordFailure(p.ctx, {
          action: 'agent.authentication_failed', targetType: 'agent', targetId: p.issue.agentId, outcome: 'failure', reason: o.reason,
          data: { method: p.issue.method, reason: o.reason },
        });
      }
    });
  }

  /**
   * Writes the batch in one statement if every request is expected to pass (see the module
   * comment); null when it is not, or the statement refused (nothing was written).
   */
  private async speculate(batch: Pending[]): Promise<(IssueOutcome | null)[] | null> {
    const at = Date.now();
    const expected = new Map<string, string[]>();
    const jtis = new Set<string>();
    const outcomes: (IssueOutcome | null)[] = [];
    const events: QueuedAuditEvent[] = [];
    const items: ops.AuthorizeItem[] = [];
    for (const p of batch) {
      const req = p.issue;
      if (!req) {
        outcomes.push(null);
        continue;
      }
      const seen = expected.get(req.agentId);
      if (seen && !sameList(seen, req.agentScopes)) return null;
      expected.set(req.agentId, req.agentScopes);
      if (req.scopes && !req.scopes.every((sc) => scopeCovers(req.agentScopes, sc))) return null;
      if (req.federatedCredentialId === undefined) {
        const key = `${req.agentId} ${req.jti}`;
        if (jtis.has(key)) return null;
        jtis.add(key);
      }
      const scopes = req.scopes ?? req.agentScopes;
      outcomes.push({ ok: true, issuedAtMs: at, scopes });
      events.push({ ctx: req.ctx, event: { ...req.success, data: { ...req.success.data, scopes } } });
      items.push(authorizeItem(req));
    }
    if (items.length === 0) return null;
    for (const p of batch) if (p.kind === 'audit') events.push({ ctx: p.ctx, event: p.event! });
    const orgIds = new Set(events.map((e) => e.ctx.organizationId));
    const now = this.now();
    for (const id of orgIds) {
      const until = this.cooldowns.get(id);
      if (until === undefined) continue;
      if (until > now) return null;
      this.cooldowns.delete(id);
    }
    const append = this.audit.speculate(events);
    if (!append) return null;
    const before = new Map(append.before.map((h) => [h.organization_id, h]));
    const swaps = append.after.map((h) => ({ organization_id: h.organization_id, before: before.get(h.organization_id)!, after: h }));
    const start = performance.now();
    try {
      await ops.authorizeAndAppend(this.db, items, [...expected].map(([agent_id, scopes]) => ({ agent_id, scopes })), new Date(at), append.rows, swaps);
    } catch (err) {
      this.stats.refused++;
      this.audit.forgetHeads(orgIds);
      if (this.cooldowns.size >= MAX_COOLDOWNS) this.cooldowns.clear();
      for (const id of orgIds) this.cooldowns.set(id, this.now() + SPECULATION_COOLDOWN_MS);
      // Whether a statement whose answer was lost committed is unknown: writing the batch again would
      // report issued tokens as replayed and audit them twice, so its requests fail instead.
      if (!statementDidNotCommit(err)) throw err;
      // The locking path runs the same batch next and meets (and reports) any real error itself.
      if (!isSpeculationRefused(err)) this.logger.debug({ err }, 'a speculative token batch failed; writing it through the locking path');
      return null;
    }
    this.stats.speculated++;
    this.audit.confirmSpeculation(append.after, (performance.now() - start) / 1000);
    return outcomes;
  }

  private async flushWithRetry(batch: Pending[]): Promise<(IssueOutcome | null)[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.audit.withAudit(this.db, (tx, audit) => this.flush(tx, audit, batch));
      } catch (err) {
        if (attempt < 3 && isRetryableTransactionError(err)) continue;
        throw err;
      }
    }
  }

  /** One batch as one audited unit of work; its events (of any organizations) are appended as one batch. */
  private async flush(tx: Knex.Transaction, audit: AuditUnit, batch: Pending[]): Promise<(IssueOutcome | null)[]> {
    const outcomes: (IssueOutcome | null)[] = batch.map(() => null);
    const events: QueuedAuditEvent[] = [];
    const issues = batch.flatMap((p, i) => (p.issue ? [{ i, req: p.issue }] : []));
    if (issues.length) {
      const r = await ops.authorizeBatch(tx, issues.map(({ req }) => authorizeItem(req)), new Date());
      // Taken while holding the agents' row locks: a suspension of these agents commits after us,
      // with a later status_changed_at.
      const now = Date.now();
      const agents = new Map(r.agents.map((a) => [a.id, a]));
      const keys = new Set(r.keys.map((k) => `${k.agent_id} ${k.kid}`));
      const federated = new Set(r.federated.map((f) => `${f.agent_id} ${f.id}`));
      const credentialActive = (req: IssueRequest) =>
        req.federatedCredentialId !== undefined ? federated.has(`${req.agentId} ${req.federatedCredentialId}`) : keys.has(`${req.agentId} ${req.kid}`);
      const fresh = new Set(r.jtis.map((j) => `${j.agent_id} ${j.jti}`));
      for (const { i, req } of issues) {
        const agent = agents.get(req.agentId);
        if (!agent) outcomes[i] = { ok: false, reason: 'agent_not_active' };
        else if (!credentialActive(req)) outcomes[i] = { ok: false, reason: req.federatedCredentialId !== undefined ? 'credential_removed' : 'key_removed' };
        else if (req.scopes && !req.scopes.every((sc) => scopeCovers(agent.scopes, sc))) outcomes[i] = { ok: false, reason: 'scope_not_granted' };
        // delete: a duplicate within the same batch is a replay too
        else if (req.federatedCredentialId === undefined && !fresh.delete(`${req.agentId} ${req.jti}`)) outcomes[i] = { ok: false, reason: 'assertion_replayed' };
        else outcomes[i] = { ok: true, issuedAtMs: Math.max(now, new Date(agent.status_changed_at).getTime()), scopes: req.scopes ?? agent.scopes };
        const o = outcomes[i]!;
        if (o.ok) events.push({ ctx: req.ctx, event: { ...req.success, data: { ...req.success.data, scopes: o.scopes } } });
      }
    }
    for (const p of batch) if (p.kind === 'audit') events.push({ ctx: p.ctx, event: p.event! });
    audit.appendMany(events);
    return outcomes;
  }
}

function authorizeItem(req: IssueRequest): ops.AuthorizeItem {
  return { agent_id: req.agentId, kid: req.kid, jti: req.jti, expires_at: req.assertionExpiresAt, federated_credential_id: req.federatedCredentialId ?? null };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
