/**
 * The master key: 32 random bytes from CERTUSORDO_MASTER_KEY or, for the embedded default, a key
 * file generated once in the data directory. Purpose-specific keys derive from it with HKDF so one
 * secret configures the whole server and no two uses share key material.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hkdfSync, randomBytes } from 'node:crypto';

export interface MasterKey {
  /** Pepper for API-key HMACs. */
  readonly apiKeyPepper: Buffer;
  /** AES-256-GCM key for signing keys at rest. */
  readonly signingKeyEncryption: Buffer;
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

/** Reads the configured key, or the data directory's key file (created on first use, mode 0600). */
export function loadMasterKey(configured: string | undefined, dataDir: string): MasterKey {
  let raw: Buffer;
  if (configured) {
    raw = parseMasterKey(configured);
  } else {
    const file = path.join(dataDir, 'master.key');
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, generateMasterKey() + '\n', { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    raw = parseMasterKey(fs.readFileSync(file, 'utf8').trim());
  }
  return { apiKeyPepper: derive(raw, 'api-key-pepper'), signingKeyEncryption: derive(raw, 'signing-key-encryption') };
}
