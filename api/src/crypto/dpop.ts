/**
 * The control plane's cryptography for DPoP proofs (model/dpop.ts holds the rules): the compact
 * JWS parser of the token endpoint, node:crypto signature checks for Ed25519 and ES256, SHA-256.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { DecodedDpopProof, DpopCrypto, DpopPublicJwk } from '../../../model/dpop';
import { decodeJws } from './jws';

const MAX_KEY_OBJECTS = 10_000;
/** Proof keys by thumbprint input: an agent's proofs reuse one key, so its import is done once. */
const keyObjects = new Map<string, KeyObject>();

function keyObject(jwk: DpopPublicJwk): KeyObject {
  const id = JSON.stringify(jwk);
  let k = keyObjects.get(id);
  if (!k) {
    k = createPublicKey({ key: jwk, format: 'jwk' });
    if (keyObjects.size >= MAX_KEY_OBJECTS) keyObjects.clear();
    keyObjects.set(id, k);
  }
  return k;
}

export const nodeDpopCrypto: DpopCrypto = {
  decode: (proof: string): DecodedDpopProof | null => decodeJws(proof),
  verify(alg, jwk, proof): boolean {
    try {
      const data = Buffer.from(proof.signingInput);
      // JWS carries ES256 signatures as r || s (IEEE P1363), not DER.
      return alg === 'ES256'
        ? verify('sha256', data, { key: keyObject(jwk), dsaEncoding: 'ieee-p1363' }, proof.signature)
        : verify(null, data, keyObject(jwk), proof.signature);
    } catch {
      return false; // a point not on the curve, for one
    }
  },
  sha256: (text: string): string => createHash('sha256').update(text).digest('base64url'),
};
