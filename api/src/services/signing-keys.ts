/**
 * Token signing keys, one set per organization (each organization is its own issuer). Keys live in
 * the database with the private part encrypted (AES-256-GCM, key derived from the master key, the
 * kid as AAD), so every replica signs an organization's tokens with the same current key and
 * verifies every published one. Rotation (scheduled, or by the organization's admin) makes a new
 * key current and keeps the previous one published until the last token it signed has expired;
 * then the row is deleted.
 *
 * Keys are loaded per organization on first use and cached (bounded); an organization's first key
 * is created then, under a per-organization advisory lock. A change is announced on the
 * invalidation bus (`signing_keys:<org id>`): the organization's entry is reloaded at once, and
 * signing waits for that one reload, so a replica signs with the new key as soon as it has heard
 * of it. Otherwise signing and verification never wait for the database once an organization is
 * loaded (entries also refresh in the background after a while, in case a notification was lost).
 *
 * An organization id that names no keys (made up, or an organization that has signed nothing yet)
 * is remembered in a bounded negative cache, trusted while the invalidation bus is healthy and
 * forgotten when the organization or its first key is announced: a forged token naming a random
 * organization costs no read after the first, and never evicts a real organization's keys. Only
 * the canonical (lowercase) spelling of an id is looked up or cached at all.
 */
import { createCipheriv, createDecipheriv, KeyObject, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { generateEd25519, jwkThumbprint, privateKeyObject, publicKeyObject, seedMatchesPublicKey } from '../crypto/ed25519';
import { isCanonicalUuid } from '../crypto/ids';
import type { MasterKey } from '../crypto/master-key';
import { getOrganization } from '../db/operations/organizations';
import * as ops from '../db/operations/signing-keys';
import type { DbSigningKeyRow } from '../db/tables';
import { signEd25519 } from '../crypto/jws';
import { AuditContext, AuditLog, AuditUnit } from './audit';
import { RateLimitedError } from '../domain/errors';
import { iso } from './iso';
import { NegativeCache } from '../tokens/negative-cache';
import { ACCESS_TOKEN_TTL_MAX_SECONDS } from '../../../model/limits';
import type { SigningKeyStatus } from '../../../model/statuses';

/** The longest any access token lives (config max, and the cap on session tokens). */
export const MAX_TOKEN_LIFETIME_SECONDS = ACCESS_TOKEN_TTL_MAX_SECONDS;
/** Retired keys stay published this long past the longest token lifetime (clock skew margin). */
const RETIRE_MARGIN_SECONDS = 120;
/** Organizations whose keys are held in memory at once (least recently loaded evicted first). */
const MAX_CACHED_ORGANIZATIONS = 10_000;
/** A cached entry is refreshed in the background after this long even without a notification (missed NOTIFY). */
const MAX_ENTRY_AGE_MS = 5 * 60_000;
/** An unknown kid, or a failed refresh, reloads an organization at most this often. */
const RELOAD_INTERVAL_MS = 1000;
/** On-demand rotation (API) is refused while an organization publishes this many keys. */
export const MAX_PUBLISHED_KEYS = 10;
/** Scheduled rotations done per maintenance tick (the rest wait for the next tick). */
const ROTATIONS_PER_TICK = 100;

export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  use: 'sig';
  alg: 'EdDSA';
}

export interface SigningKeyView {
  kid: string;
  status: SigningKeyStatus;
  created_at: string;
  rotated_at: string | null;
  expires_at: string | null;
}

export interface RotationResult {
  kid: string;
  previous_kid: string | null;
  created_at: string;
}

function encryptSeed(encKey: Buffer, kid: string, seed: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encKey, iv);
  cipher.setAAD(Buffer.from(kid));
  const body = Buffer.concat([cipher.update(seed), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function decryptSeed(encKey: Buffer, kid: string, blob: Buffer): Buffer {
  const iv = blob.subarray(0, 12);
  const tag = blob.subarray(blob.length - 16);
  const decipher = createDecipheriv('aes-256-gcm', encKey, iv);
  decipher.setAAD(Buffer.from(kid));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
}

/** Whether the row's public key is the one its sealed private key derives (false for a row nobody with the master key wrote). */
function sealedKeyMatches(encKey: Buffer, r: DbSigningKeyRow, pub: Buffer): boolean {
  try {
    return seedMatchesPublicKey(decryptSeed(encKey, r.kid, Buffer.from(r.private_key_enc)), pub);
  } catch {
    return false;
  }
}


function toView(r: DbSigningKeyRow): SigningKeyView {
  return { kid: r.kid, status: r.rotated_at ? 'retired' : 'current', created_at: iso(r.created_at)!, rotated_at: iso(r.rotated_at), expires_at: iso(r.expires_at) };
}

type RotationMode =
  /** Only when the organization has no current key (first use). */
  | { kind: 'first' }
  /** Only when the current key is at least this old (the schedule); never creates a first key. */
  | { kind: 'due'; olderThanMs: number; audit: { unit: AuditUnit; ctx: AuditContext } }
  | { kind: 'now'; audit?: { unit: AuditUnit; ctx: AuditContext }; reason?: string; maxPublished?: number };

/**
 * Makes a new key current for the organization and retires the previous one, under the
 * organization's advisory lock so concurrent rotations and first uses (replicas, the CLI)
 * serialize. Returns null when the mode says there is nothing to do.
 */
async function rotateInTx(tx: Knex.Transaction, encKey: Buffer, orgId: string, mode: RotationMode, now = new Date()): Promise<RotationResult | null> {
  await ops.lockOrganizationSigningKeys(tx, orgId);
  const current = await ops.getCurrentSigningKey(tx, orgId);
  if (mode.kind === 'first' && current) return null;
  if (mode.kind === 'due' && (!current || now.getTime() - new Date(current.created_at).getTime() < mode.olderThanMs)) return null;
  if (mode.kind === 'now' && mode.maxPublished !== undefined) {
    // Every rotation keeps the previous key published for over an hour: bound what one
    // organization's admin can make every replica load, hold and serve.
    const published = await ops.listPublishedSigningKeys(tx, orgId, now);
    if (published.length >= mode.maxPublished) {
      const nextExpiry = Math.min(...published.map((r) => (r.expires_at ? new Date(r.expires_at).getTime() : Infinity)));
      const wait = Number.isFinite(nextExpiry) ? Math.max(1, Math.ceil((nextExpiry - now.getTime()) / 1000)) : MAX_TOKEN_LIFETIME_SECONDS;
      throw new RateLimitedError(`The organization already publishes ${published.length} signing keys (a retired key stays published until its last token has expired); rotate again once one has expired`, wait);
    }
  }
  if (current) await ops.retireSigningKey(tx, orgId, current.kid, now, new Date(now.getTime() + (MAX_TOKEN_LIFETIME_SECONDS + RETIRE_MARGIN_SECONDS) * 1000));
  const pair = generateEd25519();
  const kid = jwkThumbprint(pair.publicKey);
  await ops.insertSigningKey(tx, {
    kid, organization_id: orgId, public_key: pair.publicKey, private_key_enc: encryptSeed(encKey, kid, pair.seed), created_at: now, rotated_at: null, expires_at: null,
  });
  await ops.deleteExpiredSigningKeys(tx, now, orgId);
  // A change of the key that signs every token of the organization: audited, on demand or on schedule.
  const audited = mode.kind === 'due' ? { ...mode.audit, reason: 'scheduled' } : mode.kind === 'now' && mode.audit ? { ...mode.audit, reason: mode.reason ?? null } : null;
  if (audited) {
    audited.unit.append(audited.ctx, {
      action: 'signing_key.rotated', targetType: 'signing_key', targetId: kid, reason: audited.reason, data: { previous_kid: current?.kid ?? null },
    });
  }
  return { kid, previous_kid: current?.kid ?? null, created_at: now.toISOString() };
}

/**
 * Rotates an organization's signing key now, audited as a system action in its chain; for the CLI
 * and operators (running replicas pick the new key up through NOTIFY).
 */
export async function rotateSigningKey(db: Knex, keys: MasterKey, orgId: string, reason?: string): Promise<RotationResult> {
  const ctx: AuditContext = { organizationId: orgId, actorType: 'system', actorId: null, requestId: null, clientIp: null };
  return (await new AuditLog(keys.auditChain).withAudit(db, (tx, audit) => rotateInTx(tx, keys.signingKeyEncryption, orgId, { kind: 'now', audit: { unit: audit, ctx }, reason })))!;
}

/** One organization's published keys, decoded for use. */
interface OrgKeys {
  current: { kid: string; privateKey: KeyObject } | null;
  verify: Map<string, KeyObject>;
  jwks: PublicJwk[];
  views: SigningKeyView[];
  loadedAtMs: number;
  /** When to refresh in the background. */
  refreshAtMs: number;
  /** A change was announced: signing waits for the reload (verification may still use this entry). */
  invalidated: boolean;
}

interface Load {
  promise: Promise<OrgKeys | null>;
  /** Loads may create the organization's first key. */
  create: boolean;
  /** A change was announced while this load ran: its result is returned but not cached. */
  superseded: boolean;
}

/** Why an organization id has no entry: no published key (it may exist), or no such organization. */
type Absence = 'no_keys' | 'no_organization';

export class SigningKeyService {
  private readonly orgs = new Map<string, OrgKeys>();
  private readonly loads = new Map<string, Load>();
  /** Organization ids whose last load found nothing; see the file comment. */
  readonly absent: NegativeCache<Absence>;

  /** `absenceTrusted`: whether remembered absences may answer (the invalidation bus is healthy); by default never. */
  constructor(
    private readonly db: Knex,
    private readonly audit: AuditLog,
    private readonly encKey: Buffer,
    private readonly rotationSeconds: number,
    absenceTrusted: () => boolean = () => false,
  ) {
    this.absent = new NegativeCache<Absence>(absenceTrusted);
  }

  /** Rotates the organizations whose current key is overdue (organizations get their first key on first use). */
  async init(): Promise<void> {
    await this.rotateDue();
  }

  /**
   * The scheduled rotation: rotates up to a bounded number of organizations whose current key is
   * older than the rotation period, and deletes every organization's expired retired keys.
   * Returns the organizations rotated.
   */
  async rotateDue(now = new Date()): Promise<string[]> {
    const olderThanMs = this.rotationSeconds * 1000;
    const due = await ops.listOrganizationsWithKeysDue(this.db, new Date(now.getTime() - olderThanMs), ROTATIONS_PER_TICK);
    const rotated: string[] = [];
    for (const orgId of due) {
      const ctx: AuditContext = { organizationId: orgId, actorType: 'system', actorId: null, requestId: null, clientIp: null };
      if (await this.audit.withAudit(this.db, (tx, unit) => rotateInTx(tx, this.encKey, orgId, { kind: 'due', olderThanMs, audit: { unit, ctx } }, now))) {
        rotated.push(orgId);
        this.invalidate(orgId);
      }
    }
    await ops.deleteExpiredSigningKeys(this.db, now);
    return rotated;
  }

  /** Rotates the key of the context's organization now; audited in that organization's chain. */
  async rotate(ctx: AuditContext, reason?: string): Promise<RotationResult> {
    const orgId = ctx.organizationId;
    const r = (await this.audit.withAudit(this.db, (tx, audit) => rotateInTx(tx, this.encKey, orgId, { kind: 'now', audit: { unit: audit, ctx }, reason, maxPublished: MAX_PUBLISHED_KEYS })))!;
    this.invalidate(orgId);
    await this.load(orgId, false);
    return r;
  }

  /**
   * A change to an organization's keys was announced (NOTIFY, or this process's own rotation);
   * null: anything may have changed (the reload then happens on each organization's next use).
   * Verification keeps using the entry until the reload lands: a published key stays valid for
   * every token it signed, and an unknown kid triggers a reload anyway.
   */
  invalidate(orgId: string | null): void {
    if (orgId === null) {
      this.absent.clear();
      for (const e of this.orgs.values()) e.invalidated = true;
      for (const l of this.loads.values()) l.superseded = true;
      this.loads.clear();
      return;
    }
    this.absent.forget(orgId);
    const l = this.loads.get(orgId);
    if (l) {
      l.superseded = true;
      this.loads.delete(orgId);
    }
    const e = this.orgs.get(orgId);
    if (e) {
      e.invalidated = true;
      this.load(orgId, false).catch(() => undefined);
    }
  }

  /** Signs a compact JWS with the organization's current key (created on first use): alg EdDSA, kid set. */
  async sign(orgId: string, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
    return (await this.signer(orgId))(header, payload);
  }

  /**
   * Signing with the organization's current key (created on first use), resolved now: whatever can
   * fail (a load, the first key) fails here, so a caller can resolve it before it commits what the
   * signature stands for. A key rotated meanwhile stays published for longer than any token lives.
   */
  async signer(orgId: string): Promise<(header: Record<string, unknown>, payload: Record<string, unknown>) => Promise<string>> {
    const keys = await this.current(orgId);
    if (!keys?.current) throw new Error(`organization ${orgId} does not exist; nothing to sign for it`);
    const { kid, privateKey } = keys.current;
    return (header, payload) => {
      const { alg: _alg, kid: _kid, ...rest } = header;
      void _alg;
      void _kid;
      return signEd25519({ alg: 'EdDSA', ...rest, kid }, payload, privateKey);
    };
  }

  /** The organization's published keys (an existing organization gets its first key); empty for an unknown organization. */
  async jwks(orgId: string): Promise<{ keys: PublicJwk[] }> {
    return (await this.findJwks(orgId)) ?? { keys: [] };
  }

  /** Like jwks(), but null when no such organization exists (the well-known routes answer 404). */
  async findJwks(orgId: string): Promise<{ keys: PublicJwk[] } | null> {
    const keys = await this.current(orgId);
    return keys ? { keys: keys.jwks } : null;
  }

  /** A published key of that organization; an unknown kid reloads the organization at most once per second. */
  async verificationKey(orgId: string, kid: string): Promise<KeyObject | undefined> {
    const e = this.cached(orgId);
    const k = e?.verify.get(kid);
    if (k || (e && Date.now() - e.loadedAtMs < RELOAD_INTERVAL_MS)) return k;
    if (!e && (!isCanonicalUuid(orgId) || this.absent.get(orgId))) return undefined;
    return (await this.load(orgId, false))?.verify.get(kid);
  }

  /** Synchronous lookup for the hot path (undefined when not loaded: call verificationKey). */
  knownVerificationKey(orgId: string, kid: string): KeyObject | undefined {
    return this.cached(orgId)?.verify.get(kid);
  }

  /**
   * The organization's published keys (an existing organization gets its first key), from the
   * cached entry: a rotation or expiry anywhere is announced and reloads it.
   */
  async list(orgId: string, now = Date.now()): Promise<SigningKeyView[]> {
    // A retired key past its expiry is unpublished even before the maintenance purge deletes it.
    return ((await this.current(orgId))?.views ?? []).filter((v) => v.expires_at === null || Date.parse(v.expires_at) > now);
  }

  /** The organization's entry with a current key, loading (and creating the first key) when needed. */
  private async current(orgId: string): Promise<OrgKeys | null> {
    const hit = this.cached(orgId);
    if (hit?.current && !hit.invalidated) return hit;
    if (!isCanonicalUuid(orgId)) return null;
    if (!hit && this.absent.get(orgId) === 'no_organization') return null;
    if (hit) {
      const fresh = await this.load(orgId, false);
      if (fresh?.current) return fresh;
    }
    return this.load(orgId, true);
  }

  /** The cached entry; kicks a background refresh when a change was announced or it is old. */
  private cached(orgId: string): OrgKeys | undefined {
    const e = this.orgs.get(orgId);
    if (e && e.refreshAtMs <= Date.now()) {
      e.refreshAtMs = Date.now() + RELOAD_INTERVAL_MS; // retried after this long if the refresh fails
      this.load(orgId, false).catch(() => undefined);
    }
    return e;
  }

  /** One load per organization at a time; a load that may create joins none that may not. */
  private load(orgId: string, create: boolean): Promise<OrgKeys | null> {
    const running = this.loads.get(orgId);
    if (running && (running.create || !create)) return running.promise;
    // Replaced, a running load is out of invalidate()'s reach: it must not store what it read.
    if (running) running.superseded = true;
    const load: Load = { create, superseded: false, promise: Promise.resolve(null) };
    const mark = this.absent.mark();
    load.promise = this.read(orgId, create)
      .then((keys) => {
        if (load.superseded) return keys;
        if (keys) {
          this.store(orgId, keys);
          this.absent.delete(orgId);
        } else {
          this.orgs.delete(orgId); // no published key left (organization deleted): drop, do not keep stale keys
          // A load that may create the first key finds nothing only when there is no organization.
          this.absent.remember(orgId, mark, create ? 'no_organization' : 'no_keys');
        }
        return keys;
      })
      .finally(() => {
        if (this.loads.get(orgId) === load) this.loads.delete(orgId);
      });
    this.loads.set(orgId, load);
    return load.promise;
  }

  private async read(orgId: string, create: boolean): Promise<OrgKeys | null> {
    let rows = await ops.listPublishedSigningKeys(this.db, orgId, new Date());
    if (create && !rows.some((r) => !r.rotated_at)) {
      if (!(await getOrganization(this.db, orgId))) return null;
      await this.db.transaction((tx) => rotateInTx(tx, this.encKey, orgId, { kind: 'first' }));
      rows = await ops.listPublishedSigningKeys(this.db, orgId, new Date());
    }
    if (rows.length === 0) return null;
    const previous = this.orgs.get(orgId);
    const previousX = new Map(previous?.jwks.map((j) => [j.kid, j.x]));
    const verify = new Map<string, KeyObject>();
    const jwks: PublicJwk[] = [];
    const published: DbSigningKeyRow[] = [];
    let current: OrgKeys['current'] = null;
    for (const r of rows) {
      const pub = Buffer.from(r.public_key);
      const x = pub.toString('base64url');
      // A key is published (and verifies tokens) only when its public key is the one its sealed
      // private key derives (AES-GCM under the master key, kid as AAD): a database writer without
      // the master key cannot slip in a key of its own and forge tokens. Checked once per key and value.
      const checked = previousX.get(r.kid) === x ? previous!.verify.get(r.kid) : undefined;
      if (!r.rotated_at) {
        if (checked && previous?.current?.kid === r.kid) current = previous.current;
        else {
          const seed = decryptSeed(this.encKey, r.kid, Buffer.from(r.private_key_enc));
          if (!seedMatchesPublicKey(seed, pub)) throw new Error(`signing key ${r.kid} of organization ${orgId} does not match its sealed private key: the signing_keys table was altered outside the server`);
          current = { kid: r.kid, privateKey: privateKeyObject(seed) };
        }
      } else if (!checked && !sealedKeyMatches(this.encKey, r, pub)) {
        continue;
      }
      verify.set(r.kid, checked ?? publicKeyObject(pub));
      jwks.push({ kty: 'OKP', crv: 'Ed25519', x, kid: r.kid, use: 'sig', alg: 'EdDSA' });
      published.push(r);
    }
    if (published.length === 0) return null;
    const now = Date.now();
    return { current, verify, jwks, views: published.map(toView), loadedAtMs: now, refreshAtMs: now + MAX_ENTRY_AGE_MS, invalidated: false };
  }

  private store(orgId: string, keys: OrgKeys): void {
    this.orgs.delete(orgId);
    if (this.orgs.size >= MAX_CACHED_ORGANIZATIONS) this.orgs.delete(this.orgs.keys().next().value!);
    this.orgs.set(orgId, keys);
  }
}
