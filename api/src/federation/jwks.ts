/**
 * An issuer's public keys: a JWK Set read into verification keys. The same rules for a set given
 * inline on a credential (strict: every violation is reported, 400) and one fetched from an issuer
 * (lenient: keys this server cannot use are skipped, as any relying party does).
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import { FEDERATED_JWKS_KEYS_MAX, isFederatedSigningAlg, privateJwkMembers } from '../../../model/federation';

export type KeyType = 'RSA' | 'EC' | 'OKP';

export interface VerificationKey {
  kid: string | undefined;
  /** The JWK's `alg`, when it names one. */
  alg: string | undefined;
  type: KeyType;
  key: KeyObject;
}

const MIN_RSA_BITS = 2048;
/** Most keys read from a fetched set (an issuer publishes a handful). */
const MAX_FETCHED_KEYS = 100;

/** One JWK as a verification key, or why it cannot be one. */
function readJwk(jwk: unknown): VerificationKey | string {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return 'must be a JSON object';
  const j = jwk as Record<string, unknown>;
  const secret = privateJwkMembers(j);
  if (secret.length) return `must be a public key (it has ${secret.join(', ')})`;
  if (j.use !== undefined && j.use !== 'sig') return 'use must be "sig"';
  if (j.kid !== undefined && typeof j.kid !== 'string') return 'kid must be a string';
  if (j.alg !== undefined && !isFederatedSigningAlg(j.alg)) return `alg ${JSON.stringify(j.alg)} is not accepted`;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: j as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    return 'is not a valid JWK';
  }
  const d = key.asymmetricKeyDetails ?? {};
  let type: KeyType;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    if ((d.modulusLength ?? 0) < MIN_RSA_BITS) return `RSA keys must have at least ${MIN_RSA_BITS} bits`;
    type = 'RSA';
  } else if (key.asymmetricKeyType === 'ec') {
    if (d.namedCurve !== 'prime256v1') return 'EC keys must be on P-256';
    type = 'EC';
  } else if (key.asymmetricKeyType === 'ed25519') {
    type = 'OKP';
  } else {
    return 'must be an RSA, EC P-256 or Ed25519 key';
  }
  return { kid: j.kid as string | undefined, alg: j.alg as string | undefined, type, key };
}

function keysArray(jwks: unknown): unknown[] | null {
  if (jwks === null || typeof jwks !== 'object' || Array.isArray(jwks)) return null;
  const keys = (jwks as Record<string, unknown>).keys;
  return Array.isArray(keys) ? keys : null;
}

/** An inline set: the keys, or every violation (paths under `jwks`). */
export function readInlineJwks(jwks: unknown): { keys: VerificationKey[]; violations: { path: string; message: string }[] } {
  const keys = keysArray(jwks);
  if (!keys) return { keys: [], violations: [{ path: 'jwks.keys', message: 'jwks must be a JWK Set: an object with a "keys" array' }] };
  const violations: { path: string; message: string }[] = [];
  if (keys.length < 1 || keys.length > FEDERATED_JWKS_KEYS_MAX) violations.push({ path: 'jwks.keys', message: `jwks must hold 1-${FEDERATED_JWKS_KEYS_MAX} keys` });
  const out: VerificationKey[] = [];
  keys.slice(0, FEDERATED_JWKS_KEYS_MAX).forEach((k, i) => {
    const r = readJwk(k);
    if (typeof r === 'string') violations.push({ path: `jwks.keys.${i}`, message: `the key ${r}` });
    else out.push(r);
  });
  return { keys: out, violations };
}

/** A fetched set: the keys this server can use (the others are skipped). */
export function readFetchedJwks(jwks: unknown): VerificationKey[] {
  const keys = keysArray(jwks) ?? [];
  return keys.slice(0, MAX_FETCHED_KEYS).map(readJwk).filter((k): k is VerificationKey => typeof k !== 'string');
}
