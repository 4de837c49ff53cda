/**
 * The agent model's field rules, shared by every part of CertusOrdo (API validation,
 * CDKTF constructs, SDK, provider). One definition, so synth-time checks and the
 * server can never disagree. Dependency-free on purpose: the Terraform provider loads it in
 * every short-lived process; the zod adapters for the API live in `agent-schemas.ts`.
 */

import { ed25519PointViolation } from './ed25519-point';
import { printableText, textViolations } from './text';

export const AGENT_STATUSES = ['active', 'suspended', 'revoked'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const NAME_MAX = 64;
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const SCOPE_PATTERN = /^[a-z0-9_.-]+(:([a-z0-9_.-]+|\*))?$/;
export const SCOPES_MAX = 100;
export const METADATA_MAX_KEYS = 50;
export const METADATA_KEY_MAX = 64;
export const METADATA_VALUE_MAX = 1024;

/** Each returns a list of human-readable violations (empty when valid). */
export function nameViolations(name: string): string[] {
  const out: string[] = [];
  if (name.length < 1) out.push('name must not be empty');
  else if (name.length > NAME_MAX) out.push(`name must be at most ${NAME_MAX} characters`);
  if (name.length > 0 && !NAME_PATTERN.test(name)) {
    out.push('name may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit');
  }
  return out;
}

export function scopeViolations(scope: string): string[] {
  return SCOPE_PATTERN.test(scope)
    ? []
    : [`scope "${printableText(scope)}" must look like "resource:action" (lowercase letters, digits, "_", "-", "."; "*" allowed as the action)`];
}

export function scopesViolations(scopes: readonly string[]): string[] {
  const out = scopes.flatMap(scopeViolations);
  if (new Set(scopes).size > SCOPES_MAX) out.push(`at most ${SCOPES_MAX} scopes are allowed`);
  return out;
}

export function metadataViolations(metadata: Record<string, unknown>): string[] {
  const out: string[] = [];
  const keys = Object.keys(metadata);
  if (keys.length > METADATA_MAX_KEYS) out.push(`metadata may have at most ${METADATA_MAX_KEYS} keys`);
  for (const k of keys) {
    const v = metadata[k];
    const shown = printableText(k.slice(0, 80));
    if (k.length < 1 || k.length > METADATA_KEY_MAX) out.push(`metadata key "${shown}" must be 1-${METADATA_KEY_MAX} characters`);
    out.push(...textViolations(k, `metadata key "${shown}"`));
    if (typeof v !== 'string') out.push(`metadata value for "${shown}" must be a string`);
    else {
      if (v.length > METADATA_VALUE_MAX) out.push(`metadata value for "${shown}" must be at most ${METADATA_VALUE_MAX} characters`);
      out.push(...textViolations(v, `metadata value for "${shown}"`));
    }
  }
  return out;
}

/** Shape of a brought Ed25519 public key: base64url (no padding) of the 32 raw bytes. */
export const PUBLIC_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * A brought public key: 43 base64url characters in canonical form (the last one carries 2 spare
 * bits that must be zero, or the key read back would differ from the one given), encoding a
 * usable Ed25519 point.
 */
export function publicKeyViolations(publicKey: string, field = 'public_key'): string[] {
  if (!PUBLIC_KEY_PATTERN.test(publicKey)) {
    return [`${field} must be an Ed25519 public key: base64url (no padding) of the 32 raw bytes, 43 characters`];
  }
  const raw = Buffer.from(publicKey, 'base64url');
  if (raw.toString('base64url') !== publicKey) {
    return [`${field} is not canonical base64url: its last character must encode zero spare bits (did you mean "${raw.toString('base64url')}"?)`];
  }
  const point = pointViolation(publicKey, raw);
  return point ? [`${field} ${point}`] : [];
}

/**
 * The point check is a BigInt square root, costly next to everything else a validation does, and
 * Terraform validates the same configuration in every walk of every plan and apply: remember
 * recent answers (a pure function).
 */
const pointChecks = new Map<string, string | null>();
function pointViolation(encoded: string, raw: Uint8Array): string | null {
  let v = pointChecks.get(encoded);
  if (v === undefined) {
    if (pointChecks.size >= 4096) pointChecks.clear();
    v = ed25519PointViolation(raw);
    pointChecks.set(encoded, v);
  }
  return v;
}

/** Removes duplicate scopes, keeping first-seen order. */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)];
}

/** A wildcard scope grants every action on a resource (`payments:*`). */
export function isWildcardScope(scope: string): boolean {
  return scope.endsWith(':*') || scope === '*';
}

/** True when `granted` (an agent's or session's scopes) covers `requested`. */
export function scopeCovers(granted: readonly string[], requested: string): boolean {
  if (granted.includes(requested)) return true;
  const resource = requested.split(':')[0];
  return granted.includes(`${resource}:*`);
}
