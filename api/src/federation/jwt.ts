/**
 * Platform tokens (JWTs issued by another party: GitHub Actions, Kubernetes, SPIRE, a cloud):
 * decoding and signature verification with the algorithms federation accepts (model/federation.ts
 * FEDERATED_SIGNING_ALGS). Each algorithm verifies only with a key of its own type, so a public key
 * can never be used as an HMAC secret or an RSA key for an EC signature.
 */
import { constants, verify } from 'node:crypto';
import type { FederatedSigningAlg } from '../../../model/federation';
import type { KeyType, VerificationKey } from './jwks';

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Platform tokens are 1-2 kB; a bound on what is parsed at all. */
const MAX_JWT_LENGTH = 16 * 1024;
const B64URL = /^[A-Za-z0-9_-]*$/;

function jsonObject(segment: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Splits and decodes a compact JWS without verifying it; null when malformed. */
export function decodeJwt(token: string): DecodedJwt | null {
  if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || parts[0] === '' || parts[1] === '') return null;
  const header = jsonObject(parts[0]!);
  const payload = jsonObject(parts[1]!);
  if (!header || !payload) return null;
  return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
}

/** The payload's `iss` without decoding the rest (the token endpoint's cheap recognition). */
export function peekIssuer(token: string): unknown {
  if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH) return undefined;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1) return undefined;
  return jsonObject(token.slice(first + 1, second))?.iss;
}

const KEY_TYPE: Readonly<Record<FederatedSigningAlg, KeyType>> = { RS256: 'RSA', PS256: 'RSA', ES256: 'EC', EdDSA: 'OKP', Ed25519: 'OKP' };

/** Whether `key` may verify a signature of `alg` (its type, and its own `alg` when it names one). */
export function keyFits(key: VerificationKey, alg: FederatedSigningAlg): boolean {
  if (KEY_TYPE[alg] !== key.type) return false;
  if (key.alg === undefined) return true;
  const okp = (a: string) => a === 'EdDSA' || a === 'Ed25519';
  return key.alg === alg || (okp(key.alg) && okp(alg));
}

export function verifyJwt(jwt: DecodedJwt, alg: FederatedSigningAlg, key: VerificationKey): boolean {
  if (!keyFits(key, alg)) return false;
  const data = Buffer.from(jwt.signingInput);
  try {
    switch (alg) {
      case 'RS256':
        return verify('sha256', data, key.key, jwt.signature);
      case 'PS256':
        return verify('sha256', data, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, jwt.signature);
      case 'ES256':
        return verify('sha256', data, { key: key.key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
      default:
        return verify(null, data, key.key, jwt.signature);
    }
  } catch {
    return false;
  }
}
