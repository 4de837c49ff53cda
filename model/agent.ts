/**
 * The agent model's field rules, shared by every part of CertusOrdo (API validation,
 * CDKTF constructs, SDK, provider): the limits, the checks, and the rules in words for
 * descriptions and help texts. One definition, so synth-time checks and the server can never
 * disagree. Dependency-free and browser-safe on purpose: the Terraform provider loads it in every
 * short-lived process, the console and the SDK run in browsers; the zod adapters for the API
 * live in `agent-schemas.ts`.
 */

import { ed25519PointViolation } from './ed25519-point';
import { printableText, textViolations } from './text';

export { AGENT_STATUSES, type AgentStatus } from './statuses';
export {
  intersectScopes,
  isScope,
  isWildcardScope,
  normalizeScopes,
  scopeCovers,
  SCOPE_MAX_LENGTH,
  SCOPE_PATTERN,
  SCOPE_RULE,
  scopeViolations,
  SCOPES_MAX,
  SCOPES_RULE,
  scopesViolations,
} from './scope';

export const NAME_MAX = 64;
/** `\-` rather than a bare `-`: browsers compile an input's `pattern` with the `v` flag, which refuses a bare one. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._\-]*$/;
export const METADATA_MAX_KEYS = 50;
export const METADATA_KEY_MAX = 64;
export const METADATA_VALUE_MAX = 1024;

/** The name rule in words (Markdown), for descriptions, help texts and the fixes diagnostics suggest. */
export const NAME_RULE = `1-${NAME_MAX} characters: letters, digits, \`.\`, \`_\` and \`-\`, starting with a letter or digit`;
/** The metadata rule in words. */
export const METADATA_RULE = `at most ${METADATA_MAX_KEYS} keys of 1-${METADATA_KEY_MAX} characters, with string values of at most ${METADATA_VALUE_MAX} characters`;
/** A brought public key in words. */
export const PUBLIC_KEY_RULE = 'an Ed25519 public key: base64url (no padding) of the 32 raw bytes, 43 characters';

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
    return [`${field} must be ${PUBLIC_KEY_RULE}`];
  }
  const { raw, canonical } = decodePublicKey(publicKey);
  if (canonical !== publicKey) {
    return [`${field} is not canonical base64url: its last character must encode zero spare bits (did you mean "${canonical}"?)`];
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

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The 32 bytes of a key matching PUBLIC_KEY_PATTERN, and the key's canonical spelling (its last
 * character with the 2 spare bits cleared), decoded here so browsers can run the rule too.
 */
function decodePublicKey(publicKey: string): { raw: Uint8Array; canonical: string } {
  const raw = new Uint8Array(32);
  let bits = 0;
  let acc = 0;
  let n = 0;
  for (const c of publicKey) {
    acc = (acc << 6) | BASE64URL.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      raw[n++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  const last = BASE64URL.indexOf(publicKey.charAt(42)) & ~3;
  return { raw, canonical: publicKey.slice(0, 42) + BASE64URL.charAt(last) };
}
