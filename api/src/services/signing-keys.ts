/**
 * The control plane's own Ed25519 signing keys for access tokens. Keys live in the database with
 * the private part encrypted (AES-256-GCM, key derived from the master key, the kid as AAD), so
 * every replica signs with the same current key and verifies every published one. Rotation
 * (scheduled, or on demand) makes a new key current and keeps the previous one published until
 * the last token it signed has expired; then the row is deleted.
 */
import { createCipheriv, createDecipheriv, KeyObject, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { generateEd25519, jwkThumbprint, privateKeyObject, publicKeyObject } from '../crypto/ed25519';
import type { MasterKey } from '../crypto/master-key';
import * as ops from '../db/operations/signing-keys';
import type { DbSigningKeyRow } from '../db/tables';
import { AuditContext, recordAudit } from './audit';

/** The longest any access token lives (config max, and the cap on session tokens). */
export const MAX_TOKEN_LIFETIME_SECONDS = 3600;
/** Retired keys stay published this long past the longest token lifetime (clock skew margin). */
const RETIRE_MARGIN_SECONDS = 120;

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
  status: 'current' | 'retired';
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

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function toView(r: DbSigningKeyRow): SigningKeyView {
  return { kid: r.kid, status: r.rotated_at ? 'retired' : 'current', created_at: iso(r.created_at)!, rotated_at: iso(r.rotated_at), expires_at: iso(r.expires_at) };
}

/**
 * Makes a new key current and retires the previous one, under an advisory lock so concurrent
 * rotations (replicas, the CLI) serialize. With `onlyIfOlderThanMs`, rotates only when no key exists
 * or the current one is at least that old (the schedule); returns null when nothing was done.
 */
async function rotateInTx(tx: Knex.Transaction, encKey: Buffer, opts: { onlyIfOlderThanMs?: number; ctx?: AuditContext; reason?: string }): Promise<RotationResult | null> {
  await ops.lockSigningKeys(tx);
  const now = new Date();
  const current = await ops.getCurrentSigningKey(tx);
  if (opts.onlyIfOlderThanMs !== undefined && current && now.getTime() - new Date(current.created_at).getTime() < opts.onlyIfOlderThanMs) return null;
  if (current) await ops.retireSigningKey(tx, current.kid, now, new Date(now.getTime() + (MAX_TOKEN_LIFETIME_SECONDS + RETIRE_MARGIN_SECONDS) * 1000));
  const pair = generateEd25519();
  const kid = jwkThumbprint(pair.publicKey);
  await ops.insertSigningKey(tx, { kid, public_key: pair.publicKey, private_key_enc: encryptSeed(encKey, kid, pair.seed), created_at: now, rotated_at: null, expires_at: null });
  await ops.deleteExpiredSigningKeys(tx, now);
  if (opts.ctx) {
    await recordAudit(tx, opts.ctx, { action: 'signing_key.rotated', targetType: 'signing_key', targetId: kid, reason: opts.reason ?? null, data: { previous_kid: current?.kid ?? null } });
  }
  return { kid, previous_kid: current?.kid ?? null, created_at: now.toISOString() };
}

/** Rotates the signing key now; for the CLI and operators (replicas pick the new key up through NOTIFY). */
export async function rotateSigningKey(db: Knex, keys: MasterKey, reason?: string): Promise<RotationResult> {
  return (await db.transaction((tx) => rotateInTx(tx, keys.signingKeyEncryption, { reason })))!;
}

interface LoadedKeys {
  current: { kid: string; privateKey: KeyObject } | null;
  verify: Map<string, KeyObject>;
  jwks: PublicJwk[];
  views: SigningKeyView[];
}

export class SigningKeyService {
  private keys: LoadedKeys = { current: null, verify: new Map(), jwks: [], views: [] };
  private lastReload = 0;
  private reloading: Promise<void> | null = null;

  constructor(private readonly db: Knex, private readonly encKey: Buffer, private readonly rotationSeconds: number) {}

  /** Creates the first key, or rotates an overdue one, then loads. */
  async init(): Promise<void> {
    await this.rotateIfDue();
    await this.reload();
  }

  /** The scheduled rotation; a no-op while the current key is younger than the rotation period. */
  async rotateIfDue(): Promise<RotationResult | null> {
    const r = await this.db.transaction((tx) => rotateInTx(tx, this.encKey, { onlyIfOlderThanMs: this.rotationSeconds * 1000 }));
    if (r) await this.reload();
    return r;
  }

  async rotate(ctx: AuditContext, reason?: string): Promise<RotationResult> {
    const r = (await this.db.transaction((tx) => rotateInTx(tx, this.encKey, { ctx, reason })))!;
    await this.reload();
    return r;
  }

  /** Re-reads the published keys (after a NOTIFY, or when a token names an unknown kid). */
  async reload(): Promise<void> {
    if (this.reloading) return this.reloading;
    this.reloading = (async () => {
      try {
        this.lastReload = Date.now();
        const rows = await ops.listPublishedSigningKeys(this.db, new Date());
        const verify = new Map<string, KeyObject>();
        const jwks: PublicJwk[] = [];
        let current: LoadedKeys['current'] = null;
        for (const r of rows) {
          const pub = Buffer.from(r.public_key);
          verify.set(r.kid, this.keys.verify.get(r.kid) ?? publicKeyObject(pub));
          jwks.push({ kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url'), kid: r.kid, use: 'sig', alg: 'EdDSA' });
          if (!r.rotated_at) {
            current = this.keys.current?.kid === r.kid ? this.keys.current : { kid: r.kid, privateKey: privateKeyObject(decryptSeed(this.encKey, r.kid, Buffer.from(r.private_key_enc))) };
          }
        }
        this.keys = { current, verify, jwks, views: rows.map(toView) };
      } finally {
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  /** The key to sign with now. */
  signer(): { kid: string; privateKey: KeyObject } {
    if (!this.keys.current) throw new Error('no current signing key is loaded');
    return this.keys.current;
  }

  /** A published verification key; an unknown kid triggers at most one reload per second. */
  async verificationKey(kid: string): Promise<KeyObject | undefined> {
    const k = this.keys.verify.get(kid);
    if (k || Date.now() - this.lastReload < 1000) return k;
    await this.reload();
    return this.keys.verify.get(kid);
  }

  /** Synchronous lookup for the hot path. */
  knownVerificationKey(kid: string): KeyObject | undefined {
    return this.keys.verify.get(kid);
  }

  jwks(): { keys: PublicJwk[] } {
    return { keys: this.keys.jwks };
  }

  list(): SigningKeyView[] {
    return this.keys.views;
  }
}
