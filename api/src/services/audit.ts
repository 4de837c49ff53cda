/**
 * The audit log: every change writes its event in the change's own transaction. Events form a
 * chain per organization: hash = HMAC-SHA256(link key, previous hash "\n" canonical event), the
 * link key derived from the master key. Verification detects an edited, deleted or reordered
 * event, and someone who can write to the database (even bypassing its append-only trigger) but
 * does not hold the master key cannot compute a chain that verifies.
 *
 * Chains that began before the chain was keyed keep their plain SHA-256 links up to a cut-over
 * seq; every later event is keyed and links to the last legacy hash, so the first keyed event
 * also protects the legacy prefix. The cut-over (seq and hash) is sealed with an HMAC under the
 * chain key on the chain head, so nobody without the key can move it (relabel keyed events as
 * legacy). A chain without a cut-over record is keyed from its genesis.
 *
 * Verification is incremental: it resumes from the last verified point (sealed the same way,
 * so a database writer can neither forge one nor hide a cut-off tail behind it), runs once per
 * organization at a time (concurrent callers share the run), and reports the first broken seq.
 * Checkpoints are the verified head signed with the organization's token signing key, so an
 * auditor can keep them outside the database and later prove the log still extends them. Their
 * issuer is the organization's checkpoint issuer, never its token issuer, so no verifier of
 * access tokens takes one for a token.
 */
import { createHash, createHmac, hkdfSync, KeyObject, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import * as ops from '../db/operations/audit';
import type { DbAuditChainHead, DbAuditLinkRow } from '../db/operations/audit';
import type { DbAuditEventRow } from '../db/tables';
import { ConflictError, ServiceUnavailableError, ValidationError } from '../domain/errors';
import { decodeJws, verifyEd25519 } from '../crypto/jws';
import type { z } from 'zod';
import type { AuditListQueryInput, AuditVerification } from '../schemas/audit';
import { decodeSeqCursor, encodeCursor } from './cursor';
import { iso } from './iso';
import { checkpointIssuer } from './issuer';
import { AppendObserver, AuditedTransaction, AuditUnit, ChainEventBody, ChainHead, linkEvents, QueuedAuditEvent } from './audit-unit';

export type { AuditContext, AuditEventInput, AuditUnit, ChainEventBody, ChainHead, QueuedAuditEvent } from './audit-unit';

/** The two keys derived from the chain key: one links events, one seals records about the chain. */
export interface ChainKeys {
  readonly link: Buffer;
  readonly seal: Buffer;
}

export function chainKeys(chainKey: Buffer): ChainKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', chainKey, Buffer.alloc(0), `certusordo/audit/${info}`, 32));
  return { link: derive('link'), seal: derive('seal') };
}

/**
 * JSON with object keys sorted at every level, so jsonb's reordering cannot change a hash. Written
 * into one string in a single pass (every token links an event through this).
 */
function canonicalJson(value: unknown): string {
  let out = '';
  const write = (v: unknown): void => {
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out += ',';
        write(v[i]);
      }
      out += ']';
    } else if (v && typeof v === 'object' && !(v instanceof Date)) {
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      out += '{';
      for (let i = 0; i < keys.length; i++) {
        if (i > 0) out += ',';
        out += `${JSON.stringify(keys[i])}:`;
        write(obj[keys[i]!]);
      }
      out += '}';
    } else {
      out += JSON.stringify(v instanceof Date ? v.toISOString() : v ?? null);
    }
  };
  write(value);
  return out;
}

function canonicalEvent(e: ChainEventBody): string {
  return canonicalJson([
    e.organization_id, Number(e.seq), e.action, e.actor_type, e.actor_id, e.target_type, e.target_id,
    e.outcome, e.reason, e.request_id, e.client_ip, e.data, new Date(e.created_at).toISOString(),
  ]);
}

/** The genesis of a chain that began before chains were keyed. */
export function legacyGenesis(orgId: string): string {
  return createHash('sha256').update(`certusordo-audit-genesis:${orgId}`).digest('hex');
}

/** A link of a chain that began before chains were keyed (plain SHA-256, up to its cut-over). */
export function legacyLink(prevHash: string, e: ChainEventBody): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalEvent(e)).digest('hex');
}

export function keyedGenesis(keys: ChainKeys, orgId: string): string {
  return createHmac('sha256', keys.link).update(`genesis\n${orgId}`).digest('hex');
}

export function keyedLink(keys: ChainKeys, prevHash: string, e: ChainEventBody): string {
  return createHmac('sha256', keys.link).update(prevHash).update('\n').update(canonicalEvent(e)).digest('hex');
}

function seal(keys: ChainKeys, label: string, ...parts: (string | number)[]): string {
  return createHmac('sha256', keys.seal).update([label, ...parts].join('\n')).digest('base64url');
}

/** Seals a legacy chain's cut-over: its last plain SHA-256 event (seq and hash). */
export function cutoverSeal(keys: ChainKeys, orgId: string, legacySeq: number, legacyHash: string): string {
  return seal(keys, 'cutover', orgId, legacySeq, legacyHash);
}

function sameText(a: string | null | undefined, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Signs checkpoints with the organization's token signing key (SigningKeyService). */
export interface CheckpointSigner {
  sign(orgId: string, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string>;
  /** A key the organization publishes in its JWKS. */
  verificationKey(orgId: string, kid: string): Promise<KeyObject | undefined>;
  /** The organization's token issuer; checkpoints carry its checkpoint issuer (issuer.ts). */
  issuer(orgId: string): string;
}

export const CHECKPOINT_TYP = 'certusordo-audit-checkpoint+jwt';

/** A verification's outcome, as `GET /v1/audit-events/verify` shows it (incremental runs recompute only the links after the last verified point). */
export type VerifyResult = z.output<typeof AuditVerification>;

export interface Checkpoint {
  checkpoint: string;
  org_id: string;
  seq: number;
  hash: string;
  created_at: string;
}

export interface VerifyOptions {
  /** Re-walk the whole chain instead of resuming from the last verified point. */
  full?: boolean;
  /** A checkpoint (compact JWS) the log must extend. */
  checkpoint?: string;
}

/** Organizations whose last committed head one process remembers for speculative appends. */
const MAX_REMEMBERED_HEADS = 10_000;

/** Events linked onto remembered heads, and the heads before and after them (see AuditLog.speculate). */
export interface SpeculativeAppend {
  rows: DbAuditEventRow[];
  before: ChainHead[];
  after: ChainHead[];
}

/** Events read per query while walking the chain. */
const WALK_BATCH = 2000;

/**
 * The organization audit logs of one control plane. Holds the chain key (derived from the master
 * key), so every service that appends or verifies receives this object instead of hashing itself.
 */
export class AuditLog {
  private readonly keys: ChainKeys;
  private signer: CheckpointSigner | null = null;
  private readonly running = new Map<string, Promise<VerifyResult>>();
  /** The kid each organization's last checkpoint was signed with (the seal binds it). */
  private readonly checkpointKids = new Map<string, string>();
  /** Verification calls and chain walks in this process (walks < calls when callers shared a run). */
  readonly stats = { calls: 0, walks: 0 };
  /** Told how long each append took (chain-head lock wait included), for the metrics. */
  private appendObserver: AppendObserver | null = null;
  /** Each organization's head as this process last committed it (see speculate), bounded. */
  private readonly lastHeads = new Map<string, ChainHead>();

  constructor(chainKey: Buffer) {
    this.keys = chainKeys(chainKey);
  }

  observeAppends(fn: AppendObserver): void {
    this.appendObserver = fn;
  }

  /** Checkpoints need the organization's signing keys, which the auth module owns. */
  useCheckpointSigner(signer: CheckpointSigner): void {
    this.signer = signer;
  }

  /** The link before a new organization's first event. */
  genesis(orgId: string): string {
    return keyedGenesis(this.keys, orgId);
  }

  /** The hash of a new event given its predecessor's. */
  link(prevHash: string, e: ChainEventBody): string {
    return keyedLink(this.keys, prevHash, e);
  }

  /**
   * Runs `work` as one audited unit of work (see audit-unit.ts): one transaction on `db`, whose
   * queued audit events are appended, under their chain heads and in the one lock order, when the
   * work has returned. The only way anything writes audit events.
   */
  async withAudit<T>(db: Knex, work: (tx: Knex.Transaction, audit: AuditUnit) => Promise<T>): Promise<T> {
    const { result, heads } = await db.transaction(async (tx) => {
      const unit = new AuditedTransaction(tx, this, this.appendObserver);
      const r = await work(tx, unit);
      await unit.write();
      return { result: r, heads: unit.headsAfter };
    });
    // Committed: these are the organizations' heads now (what a speculative append links onto).
    this.rememberHeads(heads);
    return result;
  }

  // ---- speculative appends ------------------------------------------------------------------

  /**
   * Rows for `events` linked onto the heads this process last committed, for a writer that appends
   * them in one statement which swaps each head only if it is still the one remembered (see
   * AuthWriter): no round trip to lock and read the heads first. Null when a head is not known
   * (never written by this process, or forgotten after a failed swap): the caller takes the
   * locking path, whose commit makes the head known again. The chain stays linear either way,
   * since the statement refuses to write anything when a head moved.
   */
  speculate(events: readonly QueuedAuditEvent[]): SpeculativeAppend | null {
    const heads = new Map<string, ChainHead>();
    for (const { ctx } of events) {
      const orgId = ctx.organizationId;
      if (heads.has(orgId)) continue;
      const known = this.lastHeads.get(orgId);
      if (!known) return null;
      heads.set(orgId, { ...known });
    }
    const before = [...heads.values()].map((h) => ({ ...h }));
    const rows = linkEvents(this, heads, events);
    return { rows, before, after: [...heads.values()] };
  }

  /** A speculative append committed: its heads are the organizations' heads now. */
  confirmSpeculation(after: readonly ChainHead[], seconds: number): void {
    this.rememberHeads(after);
    this.appendObserver?.('batch', seconds);
  }

  /** A speculative append was refused (a head moved, or anything else): forget those heads. */
  forgetHeads(orgIds: Iterable<string>): void {
    for (const id of orgIds) this.lastHeads.delete(id);
  }

  private rememberHeads(heads: readonly ChainHead[]): void {
    for (const h of heads) {
      const known = this.lastHeads.get(h.organization_id);
      // Commits of concurrent units may be seen out of order; an older head is never remembered over a newer one.
      if (known && known.last_seq >= h.last_seq) continue;
      if (!known && this.lastHeads.size >= MAX_REMEMBERED_HEADS) this.lastHeads.clear();
      this.lastHeads.set(h.organization_id, { ...h });
    }
  }

  /**
   * Verifies the organization's chain: from the last verified point (or, with `full`, from the
   * genesis) to the head, and, with a checkpoint, that the log still extends it. Concurrent calls
   * for one organization share one walk.
   */
  /** One page of the organization's events in `seq` order (asc: the chain's order; desc: newest first). */
  async list(db: Knex, orgId: string, q: AuditListQueryInput): Promise<{ data: AuditEvent[]; next_cursor: string | null }> {
    const kind = q.order === 'asc' ? 'e1' : 'e1d';
    const rows = await ops.listAuditEvents(db, orgId, {
      agentId: q.agent_id,
      action: q.action,
      since: q.since,
      until: q.until,
      afterSeq: q.cursor ? decodeSeqCursor(kind, q.cursor) : undefined,
      order: q.order,
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { data: page.map(toAuditEvent), next_cursor: rows.length > q.limit && last ? encodeCursor(kind, last.seq) : null };
  }

  async verify(db: Knex, orgId: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
    const cp = opts.checkpoint === undefined ? undefined : await this.readCheckpoint(orgId, opts.checkpoint);
    if (cp && !cp.ok) return broken(null, cp.reason, 0, 0);
    let run = await this.run(db, orgId, opts.full === true);
    // A run that was already under way when the checkpoint was taken (e.g. on another replica) may
    // have read an older head: look again before calling the log cut off.
    if (cp && run.valid && cp.seq > run.seq!) run = await this.run(db, orgId, opts.full === true);
    if (!cp || !run.valid) return run;
    const at = (seq: number | null, reason: string): VerifyResult => ({ ...run, valid: false, first_broken_seq: seq, reason, seq: null, hash: null });
    if (cp.seq > run.seq!) return at(run.seq! + 1, `the log ends at seq ${run.seq} but the checkpoint covers seq ${cp.seq}: events were cut off`);
    if (await this.matches(db, orgId, cp.seq, cp.hash)) return { ...run };
    // Something before the checkpoint changed: a full walk finds the first broken event.
    const full = opts.full ? run : await this.run(db, orgId, true);
    if (!full.valid) return full;
    return at(cp.seq, `event ${cp.seq} differs from the checkpoint`);
  }

  /** Verifies the chain and signs its head with the organization's token signing key. */
  async checkpoint(db: Knex, orgId: string, now: Date = new Date()): Promise<Checkpoint> {
    const signer = this.signer;
    if (!signer) throw new ServiceUnavailableError('Checkpoints are not available: this process has no signing keys');
    const run = await this.run(db, orgId, false);
    if (!run.valid) {
      throw new ConflictError(`The audit chain is broken at seq ${run.first_broken_seq}: ${run.reason}`, [{ path: 'first_broken_seq', message: String(run.first_broken_seq) }]);
    }
    const seq = run.seq!;
    const hash = run.hash!;
    const created_at = now.toISOString();
    // The seal is the server's own authenticator, so it can still check a checkpoint whose signing
    // key it no longer publishes. It binds the kid, which the signing service picks: sign, and
    // sign again in the rare case the organization's current key was not the one remembered.
    for (let attempt = 0; attempt < 3; attempt++) {
      const kid = this.checkpointKids.get(orgId) ?? '';
      const payload = {
        iss: checkpointIssuer(signer.issuer(orgId)), org_id: orgId, seq, hash, created_at, iat: Math.floor(now.getTime() / 1000),
        seal: seal(this.keys, 'checkpoint', orgId, seq, hash, created_at, kid),
      };
      const checkpoint = await signer.sign(orgId, { typ: CHECKPOINT_TYP }, payload);
      const signedKid = decodeJws(checkpoint)?.header.kid;
      if (typeof signedKid !== 'string') throw new Error('the signing service returned a JWS without a kid');
      if (signedKid === kid) return { checkpoint, org_id: orgId, seq, hash, created_at };
      this.checkpointKids.set(orgId, signedKid);
    }
    throw new ServiceUnavailableError("The organization's signing key changed while signing the checkpoint; try again");
  }

  /** Validates a checkpoint given to /verify: well-formed, this organization's, issued by this server. */
  private async readCheckpoint(orgId: string, jws: string): Promise<{ ok: true; seq: number; hash: string } | { ok: false; reason: string }> {
    const decoded = decodeJws(jws);
    if (!decoded) throw new ValidationError('checkpoint is not a compact JWS', [{ path: 'checkpoint', message: 'pass the checkpoint value returned by GET /v1/audit-events/checkpoint' }]);
    const { header, payload } = decoded;
    const signer = this.signer;
    if (!signer) throw new ServiceUnavailableError('Checkpoints are not available: this process has no signing keys');
    if (header.typ !== CHECKPOINT_TYP || header.alg !== 'EdDSA' || typeof header.kid !== 'string') return { ok: false, reason: 'the token is not an audit checkpoint' };
    // Checkpoints taken before they had an issuer of their own carry the token issuer; the
    // signature and the seal below authenticate either.
    const issuers = [checkpointIssuer(signer.issuer(orgId)), signer.issuer(orgId)];
    if (payload.org_id !== orgId || !issuers.includes(payload.iss as string)) return { ok: false, reason: "the checkpoint is another organization's" };
    const { seq, hash, created_at } = payload;
    if (!Number.isSafeInteger(seq) || (seq as number) < 0 || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash) || typeof created_at !== 'string') {
      return { ok: false, reason: 'the checkpoint is malformed' };
    }
    const key = await signer.verificationKey(orgId, header.kid);
    if (key && !(await verifyEd25519(decoded, key))) return { ok: false, reason: "the checkpoint's signature does not verify with the organization's keys" };
    if (!sameText(payload.seal as string, seal(this.keys, 'checkpoint', orgId, seq as number, hash, created_at, header.kid))) {
      return { ok: false, reason: key ? 'the checkpoint was not issued by this server' : "the checkpoint's signing key is not the organization's" };
    }
    return { ok: true, seq: seq as number, hash };
  }

  /** Whether the event at `seq` still has `hash` and its own link. */
  private async matches(db: Knex, orgId: string, seq: number, hash: string, legacy?: number | null): Promise<boolean> {
    if (legacy === undefined) {
      const head = await ops.getChainHead(db, orgId);
      const prefix = head ? this.legacyPrefix(head) : 'altered';
      if (prefix === 'altered') return false;
      legacy = prefix;
    }
    if (seq === 0) return hash === (legacy !== null ? legacyGenesis(orgId) : this.genesis(orgId));
    const e = await ops.getChainEvent(db, orgId, seq);
    return !!e && e.hash === hash && this.linkOf(legacy, e) === e.hash;
  }

  private run(db: Knex, orgId: string, full: boolean): Promise<VerifyResult> {
    this.stats.calls++;
    const key = full ? `full:${orgId}` : orgId;
    let run = this.running.get(key);
    if (!run) {
      run = this.walk(db, orgId, full).finally(() => this.running.delete(key));
      this.running.set(key, run);
    }
    return run;
  }

  /** The legacy prefix's end (null: keyed from the genesis), or 'altered' when its seal does not verify. */
  private legacyPrefix(head: DbAuditChainHead): number | null | 'altered' {
    if (head.legacy_seq === null && head.legacy_hash === null && head.legacy_mac === null) return null;
    if (head.legacy_seq === null || head.legacy_hash === null) return 'altered';
    return sameText(head.legacy_mac, cutoverSeal(this.keys, head.organization_id, head.legacy_seq, head.legacy_hash)) ? head.legacy_seq : 'altered';
  }

  private linkOf(legacySeq: number | null, e: DbAuditLinkRow): string {
    return legacySeq !== null && Number(e.seq) <= legacySeq ? legacyLink(e.prev_hash, e) : keyedLink(this.keys, e.prev_hash, e);
  }

  private async walk(db: Knex, orgId: string, full: boolean): Promise<VerifyResult> {
    this.stats.walks++;
    // The stored point first: a point is saved only by a walk that read a head at least as far, and
    // heads only grow, so a head read after it is never behind it unless the log was cut off (read
    // later, another walk's fresh point could look like a cut-off).
    let point = full ? undefined : await ops.getVerifiedPoint(db, orgId);
    // Read before the head: appends commit event and head together, so a head read later covers every event seen here.
    const maxSeq = await ops.maxEventSeq(db, orgId);
    const head = await ops.getChainHead(db, orgId);
    if (!head) return broken(maxSeq > 0 ? 1 : null, 'the organization has no audit chain head', 0, 0);
    const legacy = this.legacyPrefix(head);
    if (legacy === 'altered') return broken(1, "the chain's cut-over record (where keyed links begin) was altered", 0, 0);
    if (legacy !== null && legacy > head.last_seq) return broken(head.last_seq + 1, 'the chain head is behind its cut-over: events were cut off', 0, 0);

    // Resume from the stored point when it is genuine and its event is unchanged.
    let from = 0;
    let startHash = legacy !== null ? legacyGenesis(orgId) : this.genesis(orgId);
    let suspect: { seq: number; reason: string } | null = null;
    if (point && !sameText(point.mac, seal(this.keys, 'verified', orgId, point.seq, point.hash))) point = undefined;
    if (point && point.seq > head.last_seq) {
      suspect = { seq: head.last_seq + 1, reason: `events after seq ${head.last_seq} were verified before and are gone: the log was cut off (verified up to seq ${point.seq})` };
    } else if (point && point.seq > 0) {
      if (await this.matches(db, orgId, point.seq, point.hash, legacy)) {
        from = point.seq;
        startHash = point.hash;
      } else {
        suspect = { seq: point.seq, reason: `event ${point.seq} changed after it was verified` };
      }
    }

    let prev = startHash;
    let seq = from;
    let checked = 0;
    // The next batch is read while this one is hashed: one query in flight at a time, never idle.
    const read = (after: number) => (after < head.last_seq ? ops.listChainSegment(db, orgId, after, head.last_seq, WALK_BATCH) : Promise.resolve([]));
    let next = read(seq);
    for (;;) {
      const batch = await next;
      if (batch.length === 0) break;
      next = read(Number(batch[batch.length - 1]!.seq));
      for (const e of batch) {
        const expected = seq + 1;
        const fail = (reason: string) => {
          next.catch(() => undefined);
          return broken(expected, reason, checked, from);
        };
        if (Number(e.seq) !== expected) return fail(`event ${expected} is missing`);
        if (e.prev_hash !== prev) return fail(`event ${expected} does not link to its predecessor`);
        if (this.linkOf(legacy, e) !== e.hash) return fail(`event ${expected} was altered`);
        if (expected === legacy && e.hash !== head.legacy_hash) return fail(`event ${expected} differs from the sealed cut-over`);
        prev = e.hash;
        seq = expected;
        checked++;
      }
    }
    if (seq < head.last_seq) return broken(seq + 1, `event ${seq + 1} is missing (the chain head records ${head.last_seq} events)`, checked, from);
    if (head.last_hash !== prev) return broken(seq, 'the last event does not match the chain head', checked, from);
    if (suspect) return broken(suspect.seq, suspect.reason, checked, from);
    if (maxSeq > head.last_seq) return broken(head.last_seq + 1, `events after seq ${head.last_seq} are not on the chain: the chain head was moved back`, checked, from);

    if (!point || point.seq < head.last_seq) {
      await ops.saveVerifiedPoint(db, { organization_id: orgId, seq: head.last_seq, hash: head.last_hash, mac: seal(this.keys, 'verified', orgId, head.last_seq, head.last_hash), verified_at: new Date() });
    }
    return { valid: true, events_checked: checked, first_broken_seq: null, reason: null, seq: head.last_seq, hash: head.last_hash, from_seq: from };
  }
}

function broken(seq: number | null, reason: string, checked: number, from: number): VerifyResult {
  return { valid: false, events_checked: checked, first_broken_seq: seq, reason, seq: null, hash: null, from_seq: from };
}

/** The API's view of an event: the row without its tenant and chain link, with an ISO timestamp. */
export type AuditEvent = Omit<DbAuditEventRow, 'organization_id' | 'prev_hash' | 'created_at'> & { created_at: string };

export function toAuditEvent(r: DbAuditEventRow): AuditEvent {
  const { organization_id: _org, prev_hash: _prev, ...rest } = r;
  return { ...rest, seq: Number(r.seq), created_at: iso(r.created_at)! };
}
