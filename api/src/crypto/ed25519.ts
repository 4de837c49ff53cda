/**
 * Ed25519 keys on the server's hot path use node:crypto, many times faster than pure-JS Ed25519
 * (figures in docs/performance.md).
 * An agent secret is `cos_<agent id>_<base64url seed>`: it names the agent, so an SDK can
 * authenticate from the secret alone. Key ids are RFC 7638 JWK thumbprints.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';

import { joinAgentSecret } from '../../../model/agent-secret';

// The PKCS#8 DER prefix for an Ed25519 private key (RFC 8410); the raw 32-byte seed follows.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface GeneratedKeyPair {
  readonly publicKey: Buffer; // 32 raw bytes
  readonly seed: Buffer; // 32 raw bytes (the private key)
}

/**
 * A fresh key pair as raw bytes, read from one JWK export of the private key (it carries both
 * `d` and `x`). DER export goes through OpenSSL 3's encoder framework and costs more than
 * generating the key; the JWK export only copies the raw bytes.
 */
export function generateEd25519(): GeneratedKeyPair {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const publicKey = Buffer.from(jwk.x ?? '', 'base64url');
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  if (publicKey.length !== 32 || seed.length !== 32) throw new Error('unexpected Ed25519 JWK export');
  return { publicKey, seed };
}

/** Imported from a JWK for the same reason: OpenSSL's DER decoder costs several times the JWK import. */
export function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function privateKeyObject(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}


/**
 * Whether `publicKey` is the public key of `seed`. The JWK import derives the public key from `d`
 * (the `x` given is not trusted, only required), which is cheaper than a round trip through DER.
 */
export function seedMatchesPublicKey(seed: Buffer, publicKey: Buffer): boolean {
  const x = publicKey.toString('base64url');
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x }, format: 'jwk' }).export({ format: 'jwk' }).x === x;
  } catch {
    return false;
  }
}

/** RFC 7638 thumbprint of the OKP JWK: members in lexicographic order, no whitespace. */
export function jwkThumbprint(publicKey: Buffer): string {
  const canonical = `{"crv":"Ed25519","kty":"OKP","x":"${publicKey.toString('base64url')}"}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

export function formatAgentSecret(agentId: string, seed: Buffer): string {
  return joinAgentSecret(agentId, seed.toString('base64url'));
}

