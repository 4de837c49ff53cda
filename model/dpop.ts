/**
 * DPoP (RFC 9449) proof rules, one copy for every side that checks a proof: the control plane's
 * token endpoint and agent-authenticated routes (node:crypto), and the SDK's verifier for
 * resource servers (WebCrypto, browser-safe). Each side hands in its own cryptography
 * (`DpopCrypto`: decode the JWS, check a signature, hash); the order of the checks, what each
 * accepts and the error each failure is reported as live here only.
 * Dependency-free (the browser SDK imports it).
 */
import { constantTimeEqual, DPOP_NONCE_MAX, isDpopNonceValue } from './dpop-nonce';

/** The JWS `typ` of a DPoP proof (RFC 9449 §4.2). */
export const DPOP_PROOF_TYPE = 'dpop+jwt';
/** Proof algorithms accepted: Ed25519 (polymorphic `EdDSA` or its RFC 9864 name) and P-256. */
export const DPOP_SIGNING_ALGS = ['EdDSA', 'Ed25519', 'ES256'] as const;
export type DpopSigningAlg = (typeof DPOP_SIGNING_ALGS)[number];
/** How old a proof's `iat` may be: the replay window, for which each `jti` is remembered. */
export const DPOP_PROOF_MAX_AGE_SECONDS = 60;
/** How far ahead of the verifier's clock a proof's `iat` may be (the client's clock runs fast). */
export const DPOP_CLOCK_SKEW_SECONDS = 5;
/** Longest `jti` accepted; a client makes a random one per proof. */
export const DPOP_JTI_MAX = 256;
/** Default bound on a replay cache's entries (each one a `jti` seen within the window). */
export const DPOP_REPLAY_CACHE_CAPACITY = 100_000;

/** The two errors a proof failure is answered with (RFC 9449 §5, §8, §12.2). */
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

/** A public JWK of a proof key: Ed25519 (OKP) or P-256 (EC). */
export type DpopPublicJwk = { kty: 'OKP'; crv: 'Ed25519'; x: string } | { kty: 'EC'; crv: 'P-256'; x: string; y: string };

/** A proof split into its parts, unverified. */
export interface DecodedDpopProof {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** base64url(header) "." base64url(payload): the signed bytes, as text. */
  signingInput: string;
  /** The raw signature bytes (64 for both algorithms: Ed25519, and ES256's r || s). */
  signature: Uint8Array;
}

/** What a side supplies: its own JWS decoding, signature check and SHA-256. */
export interface DpopCrypto {
  /** The proof's parts, or null when it is not a compact JWS with JSON header and payload. */
  decode(proof: string): DecodedDpopProof | null;
  /** Whether `proof.signature` is `key`'s signature (alg `ES256` or Ed25519) of `proof.signingInput`. */
  verify(alg: 'ES256' | 'Ed25519', key: DpopPublicJwk, proof: DecodedDpopProof): boolean | Promise<boolean>;
  /** base64url(SHA-256(UTF-8 of `text`)), unpadded. */
  sha256(text: string): string | Promise<string>;
}

/**
 * The `jti`s of accepted proofs within their window, per process and bounded. Full of live entries
 * (a flood of valid proofs), it refuses new ones rather than forget one that could then be
 * replayed. Several replicas behind one name each keep their own: a proof replayed to another
 * replica is not seen here (docs/auth.md, DPoP: a shared store closes that).
 */
export class DpopReplayCache {
  /** key → the second after which the proof's `iat` is out of the window anyway. */
  readonly #seen = new Map<string, number>();
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(readonly capacity: number = DPOP_REPLAY_CACHE_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.#seen.size;
  }

  /**
   * Records `key` until `expiresAt` (seconds): `fresh` the first time within its window,
   * `replayed` after, `full` when no room is left.
   */
  use(key: string, expiresAt: number, nowSeconds: number): 'fresh' | 'replayed' | 'full' {
    const until = this.#seen.get(key);
    if (until !== undefined && until >= nowSeconds) return 'replayed';
    if (until !== undefined) this.#seen.delete(key);
    if (this.#seen.size >= this.capacity) {
      // At most one full sweep per second, so a cache full of live entries costs no more than that.
      if (nowSeconds > this.#sweptAt) {
        this.#sweptAt = nowSeconds;
        for (const [k, t] of this.#seen) if (t < nowSeconds) this.#seen.delete(k);
      }
      if (this.#seen.size >= this.capacity) return 'full';
    }
    this.#seen.set(key, expiresAt);
    return 'fresh';
  }
}

/** What a proof is checked against. */
export interface DpopExpectations {
  /** The compact JWS from the request's `DPoP` header. */
  proof: string;
  /** The request's method. */
  htm: string;
  /** The request's URL (its query and fragment are ignored, RFC 9449 §4.3). */
  htu: string;
  /** The access token presented with the proof (at a resource): the proof must carry its hash (`ath`). */
  accessToken?: string | undefined;
  /** The token's `cnf.jkt`: the proof must be signed with that key. */
  expectedJkt?: string | undefined;
  /** The verifier's clock, in seconds since the epoch. */
  nowSeconds: number;
  /** The window (default DPOP_PROOF_MAX_AGE_SECONDS). */
  maxAgeSeconds?: number | undefined;
  replay: DpopReplayCache;
  /**
   * A server nonce the proof must carry: the exact value, or a test of it (a server that rotates
   * nonces accepts the current and the previous one). Absent: nonces are not required.
   */
  nonce?: string | ((nonce: string) => boolean | Promise<boolean>) | undefined;
}

export type DpopCheckResult =
  | { ok: true; /** RFC 7638 thumbprint of the proof key. */ jkt: string; jti: string }
  | { ok: false; error: DpopErrorCode; /** A word for logs and metrics. */ reason: string; message: string };

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const COORDINATE = /^[A-Za-z0-9_-]{43}$/;

/**
 * A URL as RFC 9449 §4.3 compares `htu`: scheme and host in lowercase, the default port dropped,
 * dot segments resolved, without query and fragment. Null when it is not an absolute http(s) URL.
 */
export function normalizeHtu(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** The RFC 7638 input of a key's thumbprint: required members only, in lexicographic order. */
export function dpopJwkThumbprintInput(jwk: DpopPublicJwk): string {
  return jwk.kty === 'OKP'
    ? `{"crv":"Ed25519","kty":"OKP","x":"${jwk.x}"}`
    : `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
}

/** The proof key from the header's `jwk`, if it is a public key of the proof's algorithm. */
function publicJwk(value: unknown, alg: DpopSigningAlg): DpopPublicJwk | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the DPoP proof header must carry the public key as a jwk object';
  const jwk = value as Record<string, unknown>;
  if (PRIVATE_JWK_MEMBERS.some((m) => m in jwk)) return 'the DPoP proof jwk must be a public key (it carries private key members)';
  const coordinate = (v: unknown) => typeof v === 'string' && COORDINATE.test(v);
  if (alg === 'ES256') {
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !coordinate(jwk.x) || !coordinate(jwk.y)) return 'alg ES256 needs a P-256 jwk (kty EC, crv P-256, x, y)';
    return { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string };
  }
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !coordinate(jwk.x)) return `alg ${alg} needs an Ed25519 jwk (kty OKP, crv Ed25519, x)`;
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string };
}

/**
 * Checks a DPoP proof against a request (RFC 9449 §4.3): form, type, algorithm, public key,
 * signature, method, URL, age, nonce, access-token hash and key binding, then — only when all
 * passed — remembers its `jti` (a refused proof does not fill the cache). Failures are results,
 * never throws; their messages never quote the proof or the token.
 */
export async function checkDpopProof(crypto: DpopCrypto, x: DpopExpectations): Promise<DpopCheckResult> {
  const fail = (reason: string, message: string, error: DpopErrorCode = 'invalid_dpop_proof'): DpopCheckResult => ({ ok: false, error, reason, message });
  const proof = crypto.decode(x.proof);
  if (!proof) return fail('malformed', 'The DPoP header is not a compact JWS');
  const { header: h, payload: p } = proof;
  if (h.typ !== DPOP_PROOF_TYPE) return fail('bad_typ', `The DPoP proof typ must be ${DPOP_PROOF_TYPE}`);
  if (typeof h.alg !== 'string' || !(DPOP_SIGNING_ALGS as readonly string[]).includes(h.alg)) {
    return fail('unsupported_alg', `The DPoP proof alg must be one of ${DPOP_SIGNING_ALGS.join(', ')}`);
  }
  if (h.crit !== undefined) return fail('crit_header', 'The DPoP proof uses unsupported critical headers');
  const alg = h.alg as DpopSigningAlg;
  const jwk = publicJwk(h.jwk, alg);
  if (typeof jwk === 'string') return fail('bad_jwk', jwk);
  if (!(await crypto.verify(alg === 'ES256' ? 'ES256' : 'Ed25519', jwk, proof))) return fail('bad_signature', 'The DPoP proof signature does not verify with its jwk');

  if (typeof p.jti !== 'string' || p.jti.length < 1 || p.jti.length > DPOP_JTI_MAX) return fail('bad_jti', `The DPoP proof must carry a jti of 1-${DPOP_JTI_MAX} characters`);
  if (p.htm !== x.htm) return fail('htm_mismatch', `The DPoP proof htm must be this request's method (${x.htm})`);
  const expectedHtu = normalizeHtu(x.htu);
  if (typeof p.htu !== 'string' || expectedHtu === null || normalizeHtu(p.htu) !== expectedHtu) {
    return fail('htu_mismatch', `The DPoP proof htu must be this request's URL (${expectedHtu ?? 'unknown'})`);
  }
  const maxAge = x.maxAgeSeconds ?? DPOP_PROOF_MAX_AGE_SECONDS;
  if (typeof p.iat !== 'number' || !Number.isFinite(p.iat)) return fail('bad_iat', 'The DPoP proof must carry a numeric iat');
  if (p.iat > x.nowSeconds + DPOP_CLOCK_SKEW_SECONDS) return fail('iat_future', 'The DPoP proof iat is in the future');
  if (p.iat < x.nowSeconds - maxAge) return fail('iat_stale', `The DPoP proof is too old (iat more than ${maxAge} seconds ago)`);
  const nonce = p.nonce;
  // A nonce is a server's NQCHAR string (RFC 9449 §8.1): anything else is no nonce of anyone's.
  if (nonce !== undefined && !isDpopNonceValue(nonce)) return fail('bad_nonce', `The DPoP proof nonce must be a string of 1-${DPOP_NONCE_MAX} printable ASCII characters (RFC 9449 NQCHAR)`);
  if (x.nonce !== undefined) {
    const accepted = nonce !== undefined && (typeof x.nonce === 'string' ? constantTimeEqual(nonce, x.nonce) : await x.nonce(nonce));
    if (!accepted) return fail(nonce === undefined ? 'nonce_missing' : 'nonce_invalid', 'The DPoP proof must carry the server\'s current nonce (DPoP-Nonce header)', 'use_dpop_nonce');
  }
  if (x.accessToken !== undefined) {
    if (typeof p.ath !== 'string') return fail('ath_missing', 'The DPoP proof must carry ath, the hash of the access token');
    if (p.ath !== (await crypto.sha256(x.accessToken))) return fail('ath_mismatch', 'The DPoP proof ath is not the hash of this access token');
  }
  const jkt = await crypto.sha256(dpopJwkThumbprintInput(jwk));
  if (x.expectedJkt !== undefined && jkt !== x.expectedJkt) return fail('jkt_mismatch', 'The DPoP proof is not signed with the key this token is bound to');

  switch (x.replay.use(`${jkt} ${p.jti}`, p.iat + maxAge, x.nowSeconds)) {
    case 'replayed':
      return fail('replayed', 'The DPoP proof was already used (jti replay); make a new proof for each request');
    case 'full':
      return fail('replay_cache_full', 'Too many DPoP proofs within the window; retry with a new proof');
    default:
      return { ok: true, jkt, jti: p.jti };
  }
}

/** The credential of an `Authorization` header: `Bearer <token>` or `DPoP <token>` (RFC 9449 §7.1). */
export function parseAuthorization(header: string | undefined | null): { scheme: 'bearer' | 'dpop'; token: string } | undefined {
  if (!header) return undefined;
  const m = /^(Bearer|DPoP)\s+(\S+)\s*$/i.exec(header);
  return m ? { scheme: m[1]!.toLowerCase() as 'bearer' | 'dpop', token: m[2]! } : undefined;
}

/** How an access token was presented at a resource, and what the token says of its key. */
export interface DpopPresentation extends Omit<DpopExpectations, 'proof' | 'accessToken' | 'expectedJkt'> {
  scheme: 'bearer' | 'dpop';
  /** The access token (already verified by the caller). */
  token: string;
  /** The token's `cnf.jkt`; undefined for a bearer token. */
  jkt: string | undefined;
  /** The request's `DPoP` header: undefined when absent, null when repeated. */
  proof: string | undefined | null;
}

export type DpopPresentationResult =
  | { ok: true; /** The proof key's thumbprint, for a DPoP-bound token. */ jkt?: string }
  | { ok: false; /** `invalid_token`: a bearer token under the DPoP scheme. */ error: DpopErrorCode | 'invalid_token'; reason: string; message: string };

/**
 * Whether a resource may accept a verified token as presented: a DPoP-bound token (cnf.jkt) only
 * under the DPoP scheme with a proof for this request, signed by its key (so a copied token alone
 * is refused); a bearer token only under the Bearer scheme, since no proof could be bound to it.
 */
export async function checkDpopPresentation(crypto: DpopCrypto, p: DpopPresentation): Promise<DpopPresentationResult> {
  const fail = (error: DpopErrorCode | 'invalid_token', reason: string, message: string): DpopPresentationResult => ({ ok: false, error, reason, message });
  if (p.jkt === undefined) return p.scheme === 'dpop' ? fail('invalid_token', 'not_bound', 'This access token is not DPoP-bound: send it as Authorization: Bearer') : { ok: true };
  if (p.scheme !== 'dpop') return fail('invalid_dpop_proof', 'bearer_scheme', 'This access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof header');
  if (p.proof === undefined) return fail('invalid_dpop_proof', 'proof_missing', 'A DPoP proof header is required with Authorization: DPoP');
  if (p.proof === null) return fail('invalid_dpop_proof', 'repeated_header', 'Send one DPoP header');
  const { scheme: _scheme, token, jkt, proof, ...request } = p;
  void _scheme;
  const r = await checkDpopProof(crypto, { ...request, proof, accessToken: token, expectedJkt: jkt });
  return r.ok ? { ok: true, jkt: r.jkt } : r;
}
