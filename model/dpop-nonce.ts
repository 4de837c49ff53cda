/**
 * Stateless DPoP server nonces (RFC 9449 §8, §9), one format for every side that hands them out:
 * the control plane's token endpoint (key derived from the master key) and the resource-server kits
 * (a secret of the operator's). A nonce names a time window and carries an HMAC of it:
 *
 *   nonce = base36(window) "." base64url(HMAC-SHA256(key, "dpop-nonce " + window)[0..18])
 *
 * The current and the previous window's nonces are accepted, so a nonce lives one to two windows
 * and replicas sharing the key accept each other's without storing anything. The HMAC is injected
 * (node:crypto on the server, WebCrypto in the SDK), as `DpopCrypto` is for proofs.
 * Dependency-free (the browser SDK imports it).
 */

/** Default length of a nonce window. */
export const DPOP_NONCE_WINDOW_SECONDS = 60;
/** Longest `nonce` claim a proof may carry; a server's nonce is far shorter. */
export const DPOP_NONCE_MAX = 256;
/** RFC 9449 §8.1: `nonce-value = 1*NQCHAR`, printable ASCII without `"` and `\`. */
const NQCHARS = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** How many bytes of the HMAC a nonce carries: 144 bits, unguessable within a window. */
const MAC_BYTES = 18;

/** Whether `value` can be a nonce: 1 to DPOP_NONCE_MAX NQCHARs (so also valid text and a valid header value). */
export function isDpopNonceValue(value: unknown): value is string {
  return typeof value === 'string' && value.length <= DPOP_NONCE_MAX && NQCHARS.test(value);
}

/** HMAC-SHA256 of `message` (UTF-8) under the nonce key. */
export type DpopNonceMac = (message: string) => Uint8Array | Promise<Uint8Array>;

/** Compares two strings in time that depends on their length only, not on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url of a length divisible by 3 (the MAC prefix), without padding. */
function base64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  return out;
}

/** How a presented nonce fares: from the current window, the previous one, or refused. */
export type DpopNonceVerdict = 'current' | 'previous' | 'refused';

/**
 * The windowed HMAC nonces of one key. Each window's nonce is computed once (the last few are
 * remembered), so a check costs a string compare, not an HMAC, per request.
 */
export class WindowedDpopNonces {
  readonly windowSeconds: number;
  readonly #mac: DpopNonceMac;
  readonly #byWindow = new Map<number, Promise<string>>();

  constructor(mac: DpopNonceMac, windowSeconds: number = DPOP_NONCE_WINDOW_SECONDS) {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1) throw new RangeError('windowSeconds must be a positive integer');
    this.#mac = mac;
    this.windowSeconds = windowSeconds;
  }

  /** The nonce to hand clients at `nowSeconds` (the `DPoP-Nonce` header). */
  current(nowSeconds: number): Promise<string> {
    return this.#nonce(this.#window(nowSeconds));
  }

  /** Whether a proof's `nonce` is this key's nonce of the current or the previous window. */
  async verdict(nonce: string, nowSeconds: number): Promise<DpopNonceVerdict> {
    const current = this.#window(nowSeconds);
    // The window in the nonce picks the one HMAC to compare; a nonce of any other window is refused unseen.
    const dot = nonce.indexOf('.');
    const named = dot > 0 && dot <= 12 ? Number.parseInt(nonce.slice(0, dot), 36) : Number.NaN;
    if (named !== current && named !== current - 1) return 'refused';
    if (!constantTimeEqual(await this.#nonce(named), nonce)) return 'refused';
    return named === current ? 'current' : 'previous';
  }

  #window(nowSeconds: number): number {
    return Math.floor(nowSeconds / this.windowSeconds);
  }

  #nonce(window: number): Promise<string> {
    let nonce = this.#byWindow.get(window);
    if (!nonce) {
      nonce = Promise.resolve(this.#mac(`dpop-nonce ${window}`)).then((mac) => `${window.toString(36)}.${base64url(mac.subarray(0, MAC_BYTES))}`);
      // Three windows: the previous, the current, and the next one as the clock crosses into it.
      if (this.#byWindow.size >= 3) this.#byWindow.delete(Math.min(...this.#byWindow.keys()));
      this.#byWindow.set(window, nonce);
      // A failed HMAC is not remembered: the next request computes it again.
      nonce.catch(() => this.#byWindow.delete(window));
    }
    return nonce;
  }
}
