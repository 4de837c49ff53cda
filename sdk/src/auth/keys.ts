/**
 * Agent key material: the `cos_…` secret format, Ed25519 public keys and RFC 7638 key ids.
 * Uses @noble/ed25519's async API, whose SHA-512 is WebCrypto, so it runs in any modern runtime.
 */
import * as ed from '@noble/ed25519';
import { CertusOrdoError } from '../core/errors';
import { base64url, base64urlDecode, sha256, utf8 } from '../internal/encoding';
import { AGENT_SECRET_RULE, joinAgentSecret, splitAgentSecret } from '../../../model/agent-secret';


export interface ParsedAgentSecret {
  agentId: string;
  /** The 32-byte Ed25519 private key (seed). */
  privateKey: Uint8Array;
}

/**
 * Splits `cos_<agent uuid>_<base64url(32-byte seed)>`. The error never repeats the input: a
 * mistyped secret is still mostly a secret.
 */
export function parseAgentSecret(secret: string): ParsedAgentSecret {
  const parts = splitAgentSecret(secret);
  if (!parts) throw new CertusOrdoError(`malformed agent secret: expected ${AGENT_SECRET_RULE}`, { code: 'invalid_secret' });
  const privateKey = base64urlDecode(parts.seedBase64url);
  if (privateKey.length !== 32) throw new CertusOrdoError('malformed agent secret: key must be 32 bytes', { code: 'invalid_secret' });
  return { agentId: parts.agentId, privateKey };
}

/** Formats a secret (the inverse of `parseAgentSecret`). */
export function formatAgentSecret(agentId: string, privateKey: Uint8Array): string {
  return joinAgentSecret(agentId, base64url(privateKey));
}

/** The raw 32-byte Ed25519 public key of a seed. */
export function publicKeyFromPrivateKey(privateKey: Uint8Array): Promise<Uint8Array> {
  return ed.getPublicKeyAsync(privateKey);
}

/** RFC 7638 thumbprint (base64url SHA-256) of an Ed25519 public key: the `kid` the API uses. */
export async function jwkThumbprint(publicKey: Uint8Array | string): Promise<string> {
  const x = typeof publicKey === 'string' ? publicKey : base64url(publicKey);
  // Required members only, lexicographic order, no whitespace (RFC 7638 §3.2).
  return base64url(await sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`)));
}

/** A fresh key pair, e.g. to register an agent with your own `publicKey` (the seed never leaves you). */
export async function generateAgentKeyPair(): Promise<{ privateKey: Uint8Array; publicKey: string; kid: string }> {
  const privateKey = ed.utils.randomPrivateKey();
  const pub = await ed.getPublicKeyAsync(privateKey);
  return { privateKey, publicKey: base64url(pub), kid: await jwkThumbprint(pub) };
}

/** An Ed25519 private key as a JWK (RFC 8037); a type alias, so it fits a `Record<string, unknown>` JWK parameter. */
export type Ed25519PrivateJwk = {
  kty: 'OKP';
  crv: 'Ed25519';
  /** The public key, base64url. */
  x: string;
  /** The private key (seed), base64url. */
  d: string;
  /** Its RFC 7638 thumbprint: the key id the control plane knows it by. */
  kid: string;
};

/**
 * The agent id and private key of a secret in JWK form, for OAuth clients that sign their own
 * `private_key_jwt` assertions (e.g. the MCP SDK's `PrivateKeyJwtProvider`, with `algorithm: 'EdDSA'`).
 * The JWK holds the private key: keep it as secret as the secret itself.
 */
export async function agentPrivateJwk(secret: string): Promise<{ agentId: string; jwk: Ed25519PrivateJwk }> {
  const { agentId, privateKey } = parseAgentSecret(secret);
  const pub = await publicKeyFromPrivateKey(privateKey);
  return { agentId, jwk: { kty: 'OKP', crv: 'Ed25519', x: base64url(pub), d: base64url(privateKey), kid: await jwkThumbprint(pub) } };
}

/** Signs `header.claims` as a compact EdDSA JWS (RFC 8037). */
export async function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, privateKey: Uint8Array): Promise<string> {
  const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
  const signature = await ed.signAsync(utf8(input), privateKey);
  return `${input}.${base64url(signature)}`;
}
