/**
 * The master key: 32 random bytes from CERTUSORDO_MASTER_KEY or, for the embedded default, a key
 * file generated once in the data directory. Purpose-specific keys derive from it with HKDF so one
 * secret configures the whole server and no two uses share key material.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';

export interface MasterKey {
  /** Pepper for API-key HMACs. */
  readonly apiKeyPepper: Buffer;
  /** AES-256-GCM key for signing keys at rest. */
  readonly signingKeyEncryption: Buffer;
  /** HMAC key of the audit chains: database write access alone cannot forge a link. */
  readonly auditChain: Buffer;
  /** HMAC key sealing agent public keys: a key row written straight into the database authenticates nobody. */
  readonly agentKeySeal: Buffer;
  /** HMAC key of the DPoP nonces (tokens/dpop.ts): every replica accepts every replica's. */
  readonly dpopNonce: Buffer;
  /**
   * Public commitment to the master key, stored in the database so every process can tell
   * whether it holds the key the database's secrets were sealed with (base64url of an HMAC of a
   * fixed label; reveals nothing about the key).
   */
  readonly fingerprint: string;
}

/** Where a process's master key came from (named in start-up errors, never the key itself). */
export type MasterKeySource = { kind: 'env' } | { kind: 'file'; path: string; created: boolean };

export interface LoadedMasterKey {
  readonly keys: MasterKey;
  readonly source: MasterKeySource;
}

function derive(master: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `certusordo/${info}`, 32));
}

export function parseMasterKey(encoded: string): Buffer {
  const raw = Buffer.from(encoded, 'base64url');
  if (raw.length !== 32) throw new Error('CERTUSORDO_MASTER_KEY must be 32 bytes, base64url-encoded (generate one with `certusordo keygen`)');
  return raw;
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64url');
}

export function masterKeyFile(dataDir: string): string {
  return path.join(dataDir, 'master.key');
}

function fromRaw(raw: Buffer): MasterKey {
  return {
    apiKeyPepper: derive(raw, 'api-key-pepper'),
    signingKeyEncryption: derive(raw, 'signing-key-encryption'),
    auditChain: derive(raw, 'audit-chain'),
    agentKeySeal: derive(raw, 'agent-key-seal'),
    dpopNonce: derive(raw, 'dpop-nonce'),
    fingerprint: createHmac('sha256', derive(raw, 'fingerprint')).update('certusordo master key fingerprint').digest('base64url'),
  };
}

/** The configured key, else the data directory's existing key file, else null (never creates a file). */
export function readMasterKey(configured: string | undefined, dataDir: string): LoadedMasterKey | null {
  if (configured) return { keys: fromRaw(parseMasterKey(configured)), source: { kind: 'env' } };
  const file = masterKeyFile(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return { keys: fromRaw(parseMasterKey(text.trim())), source: { kind: 'file', path: file, created: false } };
}

/**
 * Creates the data directory's key file (mode 0600) unless one exists, and returns the key in it.
 * `created` tells the caller whether this call wrote it (so it can remove a key it should not have made).
 */
export function createMasterKeyFile(dataDir: string): LoadedMasterKey {
  const file = masterKeyFile(dataDir);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let created = true;
  try {
    fs.writeFileSync(file, generateMasterKey() + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false;
  }
  return { keys: fromRaw(parseMasterKey(fs.readFileSync(file, 'utf8').trim())), source: { kind: 'file', path: file, created } };
}

/**
 * Reads the configured key, or the data directory's key file (created on first use, mode 0600).
 * Does not look at any database: processes that open one go through `openMasterKey`
 * (api/src/db/master-key-check.ts), which refuses a key the database was not sealed with.
 */
export function loadMasterKey(configured: string | undefined, dataDir: string): MasterKey {
  return (readMasterKey(configured, dataDir) ?? createMasterKeyFile(dataDir)).keys;
}
