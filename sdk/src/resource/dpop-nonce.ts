/**
 * Server nonces for DPoP proofs at a resource server (RFC 9449 §9): the kit's `dpopNonce` option.
 * A nonce stops a client from making proofs ahead of time, and bounds a replayed proof to the
 * nonce's life on every replica, where the per-process replay cache cannot see it.
 *
 * `hmacDpopNonces({ secret })` is stateless (model/dpop-nonce.ts: a time window and an HMAC of
 * it, the control plane's own format): replicas given the same secret accept each other's nonces,
 * with nothing stored. Any other scheme is a `DpopNonceSource` of your own.
 */
import { WindowedDpopNonces, DPOP_NONCE_MAX, DPOP_NONCE_WINDOW_SECONDS, isDpopNonceValue } from '../../../model/dpop-nonce';
import { utf8 } from '../internal/encoding';

/** Where a resource server's nonces come from. `nowMs`: the verifier's clock. */
export interface DpopNonceSource {
  /** The nonce to hand clients now (the `DPoP-Nonce` header): printable ASCII without `"` and `\`, at most DPOP_NONCE_MAX characters. */
  current(nowMs: number): string | Promise<string>;
  /** Whether a proof's `nonce` is accepted now. */
  accepts(nonce: string, nowMs: number): boolean | Promise<boolean>;
}

export interface HmacDpopNonceOptions {
  /** The HMAC key, at least 32 bytes (e.g. 32 random bytes, or their base64url text); the same on every replica. */
  secret: string | Uint8Array;
  /** How long one window lasts; a nonce is accepted for one to two windows (default 60 s). */
  windowSeconds?: number | undefined;
}

const MIN_SECRET_BYTES = 32;

/** The part of WebCrypto used here (declared so the SDK does not need the DOM typings). */
interface HmacSubtle {
  importKey(format: 'raw', key: Uint8Array, algorithm: { name: 'HMAC'; hash: 'SHA-256' }, extractable: false, usages: ['sign']): Promise<unknown>;
  sign(algorithm: 'HMAC', key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}

/** Stateless nonces: base36(window) "." base64url(HMAC-SHA256(secret, window)), current and previous window accepted. */
export function hmacDpopNonces(options: HmacDpopNonceOptions): DpopNonceSource {
  const secret = typeof options.secret === 'string' ? utf8(options.secret) : options.secret;
  if (!(secret instanceof Uint8Array) || secret.length < MIN_SECRET_BYTES) throw new TypeError(`dpopNonce.secret must be at least ${MIN_SECRET_BYTES} bytes, the same on every replica`);
  const windowSeconds = options.windowSeconds ?? DPOP_NONCE_WINDOW_SECONDS;
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > 86_400) throw new TypeError('dpopNonce.windowSeconds must be an integer of 1-86400 seconds');
  const subtle = (globalThis as unknown as { crypto?: { subtle?: HmacSubtle } }).crypto?.subtle;
  if (!subtle) throw new Error('CertusOrdo SDK needs WebCrypto (globalThis.crypto.subtle)');
  const key = subtle.importKey('raw', Uint8Array.from(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const nonces = new WindowedDpopNonces(async (message) => new Uint8Array(await subtle.sign('HMAC', await key, utf8(message))), windowSeconds);
  return {
    current: (nowMs) => nonces.current(Math.floor(nowMs / 1000)),
    accepts: async (nonce, nowMs) => (await nonces.verdict(nonce, Math.floor(nowMs / 1000))) !== 'refused',
  };
}

/** The `dpopNonce` option as a source: a source as given, or HMAC nonces from a secret. */
export function dpopNonceSource(option: DpopNonceSource | HmacDpopNonceOptions): DpopNonceSource {
  return 'secret' in option ? hmacDpopNonces(option) : option;
}

/** A source's current nonce, refused (a programming error) when it could not be a header value. */
export async function currentDpopNonce(source: DpopNonceSource, nowMs: number): Promise<string> {
  const nonce = await source.current(nowMs);
  if (!isDpopNonceValue(nonce)) throw new TypeError(`A DpopNonceSource returned a nonce that is not 1-${DPOP_NONCE_MAX} printable ASCII characters without " and \\`);
  return nonce;
}
