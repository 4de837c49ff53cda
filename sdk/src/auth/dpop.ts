/**
 * DPoP (RFC 9449) for both ends, browser-safe: an agent makes a proof per request
 * (`createDpopProof`), a resource server checks one (`verifyDpopProof`, with a `DpopReplayCache`).
 * The checks themselves are model/dpop.ts, the same code the control plane runs; this module
 * supplies WebCrypto (ES256, SHA-256, and Ed25519 where the runtime has it) and @noble/ed25519
 * (EdDSA signing, and verification where WebCrypto lacks Ed25519).
 *
 *   const key = await generateDpopKey();                      // or dpopKeyFromSeed(agent seed)
 *   const proof = await createDpopProof({ key, htm: 'GET', htu: url, accessToken });
 *   // resource server:
 *   const replay = new DpopReplayCache();
 *   const { scheme, token } = parseAuthorization(req.headers.authorization)!;
 *   const claims = await verifyAccessToken(token, { issuer, audience });
 *   const r = await verifyDpopPresentation({ scheme, token, jkt: claims.jkt, proof: req.headers.dpop, htm: req.method,
 *     htu: url, nowSeconds: Math.floor(Date.now() / 1000), replay });   // refuse with 401 unless r.ok
 */
import * as ed from '@noble/ed25519';
import {
  checkDpopPresentation, checkDpopProof, DPOP_PROOF_TYPE, type DpopPresentation, type DpopPresentationResult, DpopCheckResult, DpopCrypto, dpopJwkThumbprintInput, DpopPublicJwk,
  type DecodedDpopProof, type DpopExpectations,
} from '../../../model/dpop';
import { base64url, base64urlDecode, randomId, sha256, utf8 } from '../internal/encoding';
import { CertusOrdoError } from '../core/errors';

export { DpopReplayCache, DPOP_PROOF_MAX_AGE_SECONDS, DPOP_SIGNING_ALGS, normalizeHtu, parseAuthorization } from '../../../model/dpop';
export type { DpopCheckResult, DpopErrorCode, DpopPresentation, DpopPresentationResult, DpopPublicJwk } from '../../../model/dpop';

/** A DPoP private key as a JWK: Ed25519 (`d` is the 32-byte seed) or P-256. */
export type DpopPrivateJwk =
  | { kty: 'OKP'; crv: 'Ed25519'; x: string; d: string }
  | { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string };

export interface CreateDpopProofParams {
  key: DpopPrivateJwk;
  /** The request's method (`GET`, `POST`, ...). */
  htm: string;
  /** The request's URL (query and fragment are left out of the proof). */
  htu: string;
  /** The access token sent with the request: the proof carries its hash (`ath`). Not at the token endpoint. */
  accessToken?: string | undefined;
  /** The server's nonce (its `DPoP-Nonce` header), when it asked for one. */
  nonce?: string | undefined;
  /** Milliseconds since the epoch (default Date.now). */
  now?: number | undefined;
}

export type VerifyDpopProofParams = DpopExpectations;

/** The part of WebCrypto used here (declared so the SDK does not need the DOM typings). */
interface Subtle {
  importKey(format: 'jwk', key: Record<string, unknown>, algorithm: { name: string; namedCurve?: string }, extractable: boolean, usages: string[]): Promise<unknown>;
  sign(algorithm: { name: string; hash: string }, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
  verify(algorithm: { name: string; hash?: string }, key: unknown, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
  generateKey(algorithm: { name: string; namedCurve: string }, extractable: boolean, usages: string[]): Promise<{ privateKey: unknown }>;
  exportKey(format: 'jwk', key: unknown): Promise<Record<string, unknown>>;
}

function subtle(): Subtle {
  const s = (globalThis as unknown as { crypto?: { subtle?: Subtle } }).crypto?.subtle;
  if (!s) throw new Error('CertusOrdo SDK needs WebCrypto (globalThis.crypto.subtle)');
  return s;
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' };
const ED25519 = { name: 'Ed25519' };
/** Whether WebCrypto verifies Ed25519 here (Node, current browsers): several times cheaper than @noble. */
let webEd25519: boolean | undefined;

async function verifyEd25519(jwk: DpopPublicJwk, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  if (webEd25519 !== false) {
    try {
      const key = await subtle().importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, ED25519, false, ['verify']);
      const ok = await subtle().verify(ED25519, key, signature, data);
      webEd25519 = true;
      return ok;
    } catch (err) {
      // An engine without Ed25519 says so once (NotSupportedError); a bad key is simply refused.
      if (webEd25519 === true || (err as { name?: string }).name !== 'NotSupportedError') return false;
      webEd25519 = false;
    }
  }
  return ed.verifyAsync(signature, data, base64urlDecode(jwk.x));
}
const ES256 = { name: 'ECDSA', hash: 'SHA-256' };
const MAX_PROOF_LENGTH = 8192;

function decodeSegment(segment: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(base64urlDecode(segment)));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const webDpopCrypto: DpopCrypto = {
  decode(proof: string): DecodedDpopProof | null {
    if (typeof proof !== 'string' || proof.length > MAX_PROOF_LENGTH) return null;
    const parts = proof.split('.');
    if (parts.length !== 3 || parts.some((p) => p === '')) return null;
    const [h, p, s] = parts as [string, string, string];
    const header = decodeSegment(h);
    const payload = decodeSegment(p);
    let signature: Uint8Array;
    try {
      signature = base64urlDecode(s);
    } catch {
      return null;
    }
    if (!header || !payload || signature.length !== 64) return null;
    return { header, payload, signingInput: `${h}.${p}`, signature };
  },
  async verify(alg, jwk: DpopPublicJwk, proof): Promise<boolean> {
    try {
      if (alg === 'Ed25519') return await verifyEd25519(jwk, proof.signature, utf8(proof.signingInput));
      const key = await subtle().importKey('jwk', { ...jwk }, ECDSA_P256, false, ['verify']);
      return await subtle().verify(ES256, key, proof.signature, utf8(proof.signingInput));
    } catch {
      return false; // a point not on the curve, for one
    }
  },
  sha256: async (text: string): Promise<string> => base64url(await sha256(utf8(text))),
};

/** The public half of a DPoP key. */
export function dpopPublicJwk(key: DpopPrivateJwk): DpopPublicJwk {
  return key.kty === 'OKP' ? { kty: 'OKP', crv: 'Ed25519', x: key.x } : { kty: 'EC', crv: 'P-256', x: key.x, y: key.y };
}

/** RFC 7638 thumbprint of a DPoP key: the `cnf.jkt` of the tokens bound to it. */
export async function dpopJwkThumbprint(key: DpopPrivateJwk | DpopPublicJwk): Promise<string> {
  const pub = 'd' in key ? dpopPublicJwk(key) : key;
  return base64url(await sha256(utf8(dpopJwkThumbprintInput(pub))));
}

/** A fresh DPoP key (default ES256, P-256; `EdDSA` for Ed25519). It never leaves the client. */
export async function generateDpopKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<DpopPrivateJwk> {
  if (alg === 'EdDSA') return dpopKeyFromSeed(ed.utils.randomPrivateKey());
  const { privateKey } = await subtle().generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const jwk = await subtle().exportKey('jwk', privateKey);
  return { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y), d: String(jwk.d) };
}

/** An Ed25519 seed (e.g. the agent's own key, from its secret) as a DPoP key. */
export async function dpopKeyFromSeed(seed: Uint8Array): Promise<DpopPrivateJwk> {
  if (seed.length !== 32) throw new TypeError('an Ed25519 seed is 32 bytes');
  return { kty: 'OKP', crv: 'Ed25519', x: base64url(await ed.getPublicKeyAsync(seed)), d: base64url(seed) };
}

/** A DPoP proof for one request (RFC 9449 §4.2): a fresh `jti` each call, so make one per request. */
export async function createDpopProof(p: CreateDpopProofParams): Promise<string> {
  const alg = p.key.kty === 'OKP' ? 'EdDSA' : 'ES256';
  const header = { typ: DPOP_PROOF_TYPE, alg, jwk: dpopPublicJwk(p.key) };
  const claims: Record<string, unknown> = {
    jti: randomId(),
    htm: p.htm,
    htu: stripQueryAndFragment(p.htu),
    iat: Math.floor((p.now ?? Date.now()) / 1000),
  };
  if (p.accessToken !== undefined) claims.ath = base64url(await sha256(utf8(p.accessToken)));
  if (p.nonce !== undefined) claims.nonce = p.nonce;
  const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
  return `${input}.${base64url(await signProof(p.key, utf8(input)))}`;
}

async function signProof(key: DpopPrivateJwk, data: Uint8Array): Promise<Uint8Array> {
  if (key.kty === 'OKP') return ed.signAsync(data, base64urlDecode(key.d));
  const k = await subtle().importKey('jwk', { ...key }, ECDSA_P256, false, ['sign']);
  return new Uint8Array(await subtle().sign(ES256, k, data));
}

function stripQueryAndFragment(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CertusOrdoError('htu must be an absolute URL', { code: 'invalid_request' });
  }
  u.search = '';
  u.hash = '';
  return u.toString();
}

/**
 * Checks a DPoP proof for a request at a resource server: the same checks as the control plane's
 * (model/dpop.ts). A result, never a throw: `{ ok: false, error }` is what to answer with
 * (`WWW-Authenticate: DPoP error="<error>"`, 401).
 */
export function verifyDpopProof(params: VerifyDpopProofParams): Promise<DpopCheckResult> {
  return checkDpopProof(webDpopCrypto, params);
}

/**
 * Whether a resource server may accept a verified access token as presented (the control plane's
 * own rule, model/dpop.ts): a DPoP-bound token (`jkt`) only as `Authorization: DPoP` with a proof
 * for this request by its key; a bearer token only as `Bearer`. `{ ok: false, error }` is answered
 * 401 with `WWW-Authenticate: DPoP error="<error>"` (`invalid_token`: with the Bearer challenge).
 */
export function verifyDpopPresentation(params: DpopPresentation): Promise<DpopPresentationResult> {
  return checkDpopPresentation(webDpopCrypto, params);
}
