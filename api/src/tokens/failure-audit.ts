/**
 * Coalesces failed-authentication audit events: at most one event per (organization, agent,
 * reason) and window. The first failure of a quiet key is written at once (count 1); failures
 * within the window after an event are only counted, and written as ONE summary event (with the
 * count, the first and last time, how many were throttled, and a few client addresses) once the
 * window since the previous event has passed, or on shutdown. While failures go on, each window
 * is twice as long as the one before (up to MAX_WINDOW_FACTOR times the base), so a sustained
 * flood adds events logarithmically at first and then at a fixed slow rate; a quiet window resets
 * it. A flood of failures naming an agent therefore costs a counter increment each, not an audit
 * row and a turn on the organization's chain-head lock, while the log still says how many
 * failures there were.
 */
import type { AuditContext, AuditEventInput } from '../services/audit';

export const DEFAULT_FAILURE_AUDIT_WINDOW_MS = 10_000;
const MAX_ADDRESSES = 10;
const MAX_WINDOW_FACTOR = 16;
/** Keys are attributed failures (real agents × reasons); idle ones are swept past this many. */
const MAX_KEYS = 50_000;

export interface FailureAuditEvent {
  ctx: AuditContext;
  event: AuditEventInput;
}

interface KeyState {
  /** When this key's last event was written: the next may be written one window later. */
  writtenAt: number;
  /** The current window (ms). */
  span: number;
  /** Failures counted since that event. */
  pending: number;
  throttled: number;
  firstAt: number;
  lastAt: number;
  /** The latest counted failure (its context and event become the summary's). */
  ctx: AuditContext;
  event: AuditEventInput;
  addresses: Set<string>;
}

export class FailureAuditCoalescer {
  private readonly keys = new Map<string, KeyState>();

  constructor(readonly windowMs: number = DEFAULT_FAILURE_AUDIT_WINDOW_MS) {}

  /** Accounts one failure: the event to write now, or when the window it was counted in closes. */
  admit(ctx: AuditContext, event: AuditEventInput, throttled: boolean, now: number): { write: FailureAuditEvent } | { closesAt: number } {
    const key = `${ctx.organizationId} ${event.targetId ?? ''} ${event.reason ?? ''}`;
    const s = this.keys.get(key);
    if (!s || (s.pending === 0 && now >= s.writtenAt + s.span)) {
      if (!s && this.keys.size >= MAX_KEYS) this.sweepIdle(now);
      this.keys.set(key, { writtenAt: now, span: this.windowMs, pending: 0, throttled: 0, firstAt: now, lastAt: now, ctx, event, addresses: new Set() });
      return { write: { ctx, event: { ...event, data: { ...event.data, count: 1, throttled: throttled ? 1 : 0 } } } };
    }
    if (s.pending === 0) s.firstAt = now;
    s.pending++;
    if (throttled) s.throttled++;
    s.lastAt = now;
    s.ctx = ctx;
    s.event = event;
    if (ctx.clientIp && s.addresses.size < MAX_ADDRESSES) s.addresses.add(ctx.clientIp);
    return now >= s.writtenAt + s.span ? { write: this.summarize(s, now) } : { closesAt: s.writtenAt + s.span };
  }

  /** Summaries of the keys whose window has passed (of every key with counted failures if `all`). */
  closeDue(now: number, all = false): FailureAuditEvent[] {
    const out: FailureAuditEvent[] = [];
    for (const [key, s] of this.keys) {
      const due = now >= s.writtenAt + s.span;
      if (s.pending > 0 && (due || all)) out.push(this.summarize(s, now));
      else if (s.pending === 0 && due) this.keys.delete(key);
    }
    return out;
  }

  private sweepIdle(now: number): void {
    for (const [key, s] of this.keys) if (s.pending === 0 && now >= s.writtenAt + s.span) this.keys.delete(key);
  }

  /** When the earliest window with counted failures closes, if any. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const s of this.keys.values()) if (s.pending > 0 && (next === undefined || s.writtenAt + s.span < next)) next = s.writtenAt + s.span;
    return next;
  }

  private summarize(s: KeyState, now: number): FailureAuditEvent {
    const e: FailureAuditEvent = {
      ctx: s.ctx,
      event: {
        ...s.event,
        data: {
          ...s.event.data, count: s.pending, throttled: s.throttled, coalesced: true, window_seconds: s.span / 1000,
          first_at: new Date(s.firstAt).toISOString(), last_at: new Date(s.lastAt).toISOString(), client_ips: [...s.addresses],
        },
      },
    };
    s.writtenAt = now;
    s.span = Math.min(s.span * 2, this.windowMs * MAX_WINDOW_FACTOR);
    s.pending = 0;
    s.throttled = 0;
    s.addresses = new Set();
    return e;
  }
}
