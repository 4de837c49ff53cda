/**
 * Compact JWS (RFC 7515) with Ed25519 only, on node:crypto: the token endpoint verifies client
 * assertions and signs access tokens with these, and introspection verifies them, so they stay
 * small and allocation-light. Anything that is not a well-formed EdDSA JWS is rejected.
 *
 * Verifying runs on libuv's thread pool (node:crypto's callback form), not on the event loop: an
 * Ed25519 check is most of a token request's CPU, and on the loop it would make every other request
 * (and the group commit's database replies) wait behind it. The loop pays only the hand-off.
 * Signing is much cheaper than a check, cheaper than what the hand-off costs the process in thread
 * wake-ups (docs/performance.md), so it runs on the loop; it keeps the promise-returning form.
 */
import { sign, verify, KeyObject } from 'node:crypto';
import { printableText, textViolations } from '../../../model/text';

export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The bytes that were signed: base64url(header) "." base64url(payload). */
  signingInput: string;
  signature: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
/** Upper bound on what we are willing to parse (assertions and our tokens are far smaller). */
const MAX_JWS_LENGTH = 8192;

/** Refuses bytes that are not UTF-8 instead of decoding them to U+FFFD (a claim read back must be the claim signed). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function parseJsonObject(segment: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(UTF8.decode(Buffer.from(segment, 'base64url')));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Splits and decodes a compact JWS without verifying it; null when malformed. */
export function decodeJws(token: string): DecodedJws | null {
  if (typeof token !== 'string' || token.length > MAX_JWS_LENGTH) return null;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) !== -1) return null;
  const h = token.slice(0, first);
  const p = token.slice(first + 1, second);
  const s = token.slice(second + 1);
  if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(s)) return null;
  const header = parseJsonObject(h);
  const payload = parseJsonObject(p);
  if (!header || !payload) return null;
  const signature = Buffer.from(s, 'base64url');
  if (signature.length !== 64) return null; // Ed25519 signatures are exactly 64 bytes
  return { header, payload, signingInput: token.slice(0, second), signature };
}

/**
 * The first violation of the text rule (model/text.ts) among the JWS's header parameters and claims
 * (their string values, and the strings of array values such as `aud`), or undefined. A JSON escape
 * can carry U+0000 or an unpaired surrogate into a claim; such a claim must never be stored or
 * compared (PostgreSQL refuses U+0000 in text), so the JWS is refused before anything reads it.
 */
export function claimTextViolation(jws: DecodedJws, what: string): string | undefined {
  for (const [part, obj] of [['header', jws.header], ['claim', jws.payload]] as const) {
    for (const [name, value] of Object.entries(obj)) {
      const strings = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
      for (const v of [name, ...strings]) {
        const [violation] = textViolations(v, `${what} ${part} ${printableText(name.slice(0, 40))}`);
        if (violation) return violation;
      }
    }
  }
  return undefined;
}

export function verifyEd25519(jws: DecodedJws, key: KeyObject): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      verify(null, Buffer.from(jws.signingInput), key, jws.signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false); // a key of another type: never valid
    }
  });
}

export function signEd25519(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): Promise<string> {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  try {
    return Promise.resolve(`${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`);
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
