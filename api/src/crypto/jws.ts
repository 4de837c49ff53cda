/**
 * Compact JWS (RFC 7515) with Ed25519 only, on node:crypto: the token endpoint verifies client
 * assertions and signs access tokens with these, and introspection verifies them, so they stay
 * small and allocation-light. Anything that is not a well-formed EdDSA JWS is rejected.
 */
import { sign, verify, KeyObject } from 'node:crypto';

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

function parseJsonObject(segment: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
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

export function verifyEd25519(jws: DecodedJws, key: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(jws.signingInput), key, jws.signature);
  } catch {
    return false;
  }
}

export function signEd25519(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}
