/**
 * The audited unit of work: one transaction whose audit events are appended to their
 * organizations' chains by this module alone (AuditLog.withAudit opens it). Work queues events
 * with `append`/`appendMany`; they are written when the work returns, as the transaction's last
 * statements: the chain-head locks (in organization id order), then one insert that advances the
 * heads. One event takes two statements; any number, for any number of organizations, three.
 *
 * Lock order, for every audited change (so concurrent changes cannot deadlock):
 *
 *   1. the rows and locks the change is about: organization row (API keys), idempotency key,
 *      signing-key advisory lock, agent rows (by id), agent key rows;
 *   2. audit chain heads (by organization id);
 *   3. session rows.
 *
 * A unit that touches session rows, or must order itself against the organization's other audited
 * changes before it commits (opening a session against revoking its parent token), takes its
 * organization's head early with `lockHead`; such a unit belongs to that one organization. Its
 * queued events are then written under the head it already holds.
 *
 * The head is held until commit and every audited change in the organization waits for it, which
 * is why it comes as late as the work allows.
 */
import type { Knex } from 'knex';
import { uuidv7 } from '../crypto/ids';
import * as ops from '../db/operations/audit';
import type { DbAuditEventRow } from '../db/tables';

/** Who did it, and from where; attached to every mutation. */
export interface AuditContext {
  readonly organizationId: string;
  readonly actorType: 'api_key' | 'agent' | 'system';
  readonly actorId: string | null;
  readonly requestId: string | null;
  readonly clientIp: string | null;
}

export interface AuditEventInput {
  action: string;
  targetType?: string;
  targetId?: string;
  outcome?: 'success' | 'failure';
  reason?: string | null;
  data?: Record<string, unknown>;
}

export interface QueuedAuditEvent {
  ctx: AuditContext;
  event: AuditEventInput;
}

/** The fields a link covers. */
export type ChainEventBody = Omit<DbAuditEventRow, 'hash' | 'prev_hash' | 'id'>;

/** What a unit of work may do with the audit log. */
export interface AuditUnit {
  /** Queues one event; written when the work returns. */
  append(ctx: AuditContext, event: AuditEventInput): void;
  /** Queues events of any organizations, in order; written when the work returns. */
  appendMany(events: readonly QueuedAuditEvent[]): void;
  /**
   * Takes the organization's chain-head lock now (held until commit): before session rows, or to
   * order this change against the organization's other audited changes. Binds the unit to it.
   */
  lockHead(orgId: string): Promise<void>;
  /** Creates a new organization's empty chain (in the unit that creates the organization). */
  startChain(orgId: string): Promise<void>;
}

/** The chain arithmetic the unit needs from the AuditLog (which holds the chain key). */
export interface ChainLinker {
  genesis(orgId: string): string;
  link(prevHash: string, e: ChainEventBody): string;
}

/** Told how long each write of a unit's events took (chain-head lock waits included). */
export type AppendObserver = (kind: 'single' | 'batch', seconds: number) => void;

/** An organization's chain head: its last event's seq and hash. */
export interface ChainHead {
  organization_id: string;
  last_seq: number;
  last_hash: string;
}
type Head = ChainHead;

function noChain(orgId: string): Error {
  return new Error(`organization ${orgId} has no audit chain`);
}

export class AuditedTransaction implements AuditUnit {
  private readonly queue: QueuedAuditEvent[] = [];
  /** The head taken early (lockHead), and the seconds spent waiting for it. */
  private held: Head | null = null;
  private heldWait = 0;
  private written = false;
  /** The heads this unit advanced, as they stand once it commits (empty until write()). */
  headsAfter: readonly ChainHead[] = [];

  constructor(private readonly tx: Knex.Transaction, private readonly chain: ChainLinker, private readonly observe: AppendObserver | null) {}

  append(ctx: AuditContext, event: AuditEventInput): void {
    this.appendMany([{ ctx, event }]);
  }

  appendMany(events: readonly QueuedAuditEvent[]): void {
    if (this.written) throw new Error('the unit of work has already written its audit events');
    for (const e of events) {
      if (this.held && e.ctx.organizationId !== this.held.organization_id) {
        throw new Error(`this unit of work holds organization ${this.held.organization_id}'s chain head; it cannot append to ${e.ctx.organizationId}'s`);
      }
      this.queue.push(e);
    }
  }

  async lockHead(orgId: string): Promise<void> {
    if (this.held?.organization_id === orgId) return;
    if (this.held || this.queue.some((e) => e.ctx.organizationId !== orgId)) {
      throw new Error('a unit of work that takes a chain head early belongs to one organization');
    }
    const start = performance.now();
    const head = await ops.lockChainHead(this.tx, orgId);
    if (!head) throw noChain(orgId);
    this.held = { organization_id: orgId, last_seq: Number(head.last_seq), last_hash: head.last_hash };
    this.heldWait = (performance.now() - start) / 1000;
  }

  async startChain(orgId: string): Promise<void> {
    await ops.insertChainHead(this.tx, orgId, this.chain.genesis(orgId));
  }

  /** Writes the queued events (AuditLog.withAudit calls it when the work has returned). */
  async write(): Promise<void> {
    this.written = true;
    if (this.queue.length === 0) return;
    const start = performance.now();
    const heads = await this.heads();
    const rows = linkEvents(this.chain, heads, this.queue);
    if (rows.length === 1) await ops.appendAuditEvent(this.tx, rows[0]!);
    else await ops.appendAuditEvents(this.tx, rows, [...heads.values()]);
    this.headsAfter = [...heads.values()];
    this.observe?.(rows.length === 1 ? 'single' : 'batch', this.heldWait + (performance.now() - start) / 1000);
  }

  /** The heads of the queued events' organizations, locked: the one held, else taken now in id order. */
  private async heads(): Promise<Map<string, Head>> {
    if (this.held) return new Map([[this.held.organization_id, { ...this.held }]]);
    const orgIds = [...new Set(this.queue.map((e) => e.ctx.organizationId))].sort();
    // One organization (the common case): plain SQL, it runs once per audited change.
    const rows = orgIds.length === 1 ? [await ops.lockChainHead(this.tx, orgIds[0]!)].filter((h) => h !== undefined) : await ops.lockChainHeads(this.tx, orgIds);
    return new Map(rows.map((h) => [h.organization_id, { organization_id: h.organization_id, last_seq: Number(h.last_seq), last_hash: h.last_hash }]));
  }
}

/**
 * Links queued events onto their organizations' heads, in order: each gets the next seq and its
 * HMAC link; `heads` is advanced in place. The caller holds the heads (locked, or, for a
 * speculative append, compared and swapped by the statement that writes the rows).
 */
export function linkEvents(chain: ChainLinker, heads: Map<string, ChainHead>, queue: readonly QueuedAuditEvent[]): DbAuditEventRow[] {
  const rows: DbAuditEventRow[] = [];
  for (const { ctx, event } of queue) {
    const head = heads.get(ctx.organizationId);
    if (!head) throw noChain(ctx.organizationId);
    const base = eventBase(ctx, event, head.last_seq + 1);
    const hash = chain.link(head.last_hash, base);
    rows.push({ ...base, id: uuidv7(), prev_hash: head.last_hash, hash });
    head.last_seq = base.seq;
    head.last_hash = hash;
  }
  return rows;
}

function eventBase(ctx: AuditContext, input: AuditEventInput, seq: number): ChainEventBody {
  return {
    organization_id: ctx.organizationId,
    seq,
    action: input.action,
    actor_type: ctx.actorType,
    actor_id: ctx.actorId,
    target_type: input.targetType ?? null,
    target_id: input.targetId ?? null,
    outcome: input.outcome ?? 'success',
    reason: input.reason ?? null,
    request_id: ctx.requestId,
    client_ip: ctx.clientIp,
    data: input.data ?? {},
    created_at: new Date(),
  };
}
