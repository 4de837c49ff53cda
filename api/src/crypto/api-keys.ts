/**
 * Organization API keys: `aa_` + 32 random bytes (base64url). They are random secrets, so a keyed
 * hash (HMAC-SHA256 with the server pepper) is the right store, not a slow password hash; the
 * first 8 characters of the body form a public prefix for lookup.
 *
 * Each row also stores a binding: an HMAC under the pepper over the row's organization, role and
 * key hash. The key hash alone proves only that the presented key is the row's; without the
 * binding, anyone who can write the database and holds any API key could move that key's row to
 * another organization or raise its role. Without the pepper they cannot compute a new binding.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'aa_';
const BODY_LENGTH = 43; // base64url of 32 bytes
const KEY_RE = /^aa_[A-Za-z0-9_-]{43}$/;

export interface GeneratedApiKey {
  readonly key: string;
  readonly prefix: string;
}

export function generateApiKey(): GeneratedApiKey {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, prefix: lookupPrefix(key) };
}

export function isWellFormedApiKey(key: string): boolean {
  return key.length === API_KEY_PREFIX.length + BODY_LENGTH && KEY_RE.test(key);
}

export function lookupPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 8);
}

export function hashApiKey(pepper: Buffer, key: string): Buffer {
  return createHmac('sha256', pepper).update(key).digest();
}

/** What a key row binds: the key's hash to the organization and role it grants. */
export interface ApiKeyGrant {
  readonly organization_id: string;
  readonly role: string;
  readonly key_hash: Buffer;
}

/** The binding of a row (its own message prefix keeps it apart from key hashes, which start with `aa_`). */
export function apiKeyBinding(pepper: Buffer, grant: ApiKeyGrant): Buffer {
  return createHmac('sha256', pepper)
    .update(`certusordo api key binding v1\n${grant.organization_id}\n${grant.role}\n`)
    .update(grant.key_hash)
    .digest();
}

function sameBytes(a: Buffer, b: Buffer | null | undefined): boolean {
  return b != null && a.length === b.length && timingSafeEqual(a, b);
}

/** The presented key is the row's, and the row's organization and role are the ones it was created with. */
export function apiKeyMatches(pepper: Buffer, key: string, row: ApiKeyGrant & { readonly binding: Buffer | null }): boolean {
  const hashOk = sameBytes(hashApiKey(pepper, key), row.key_hash);
  const bindingOk = sameBytes(apiKeyBinding(pepper, row), row.binding);
  return hashOk && bindingOk;
}
