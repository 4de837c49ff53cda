/**
 * Organization API keys: `aa_` + 32 random bytes (base64url). They are random secrets, so a keyed
 * hash (HMAC-SHA256 with the server pepper) is the right store, not a slow password hash; the
 * first 8 characters of the body form a public prefix for lookup.
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

export function apiKeyMatches(pepper: Buffer, key: string, stored: Buffer): boolean {
  const actual = hashApiKey(pepper, key);
  return stored.length === actual.length && timingSafeEqual(actual, stored);
}
