/**
 * Is a 32-byte string usable as an Ed25519 public key? OpenSSL (and so node:crypto) imports any
 * 32 bytes and only fails later, at verification: an agent created with such a key could never
 * authenticate, and nobody would be told why. This decodes the point as RFC 8032 §5.1.3 does and
 * also refuses the 8 small-order points, for which a signature can be forged without the private
 * key (libsodium refuses them too). Dependency-free BigInt arithmetic: it runs only for brought keys.
 */

const P = 2n ** 255n - 19n;
/** d = -121665/121666 mod p */
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
/** sqrt(-1) mod p */
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;

function mod(a: bigint): bigint {
  const r = a % P;
  return r >= 0n ? r : r + P;
}

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

/** RFC 8032 §5.1.3 point decoding; null when the bytes encode no point. */
function decodePoint(bytes: Uint8Array): { x: bigint; y: bigint } | null {
  if (bytes.length !== 32) return null;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i]! & 0x7f : bytes[i]!);
  const sign = (bytes[31]! >> 7) & 1;
  if (y >= P) return null; // non-canonical y
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  const v3 = (v * v * v) % P;
  let x = (u * v3 * pow(u * v3 * v3 * v, (P - 5n) / 8n)) % P;
  const vx2 = (v * x * x) % P;
  if (vx2 === mod(-u)) x = (x * SQRT_M1) % P;
  else if (vx2 !== u) return null; // no square root: not on the curve
  if (x === 0n && sign === 1) return null;
  if (Number(x & 1n) !== sign) x = P - x;
  return { x, y };
}

/** [8]P is the identity exactly for the 8 points of small order (extended coordinates, a = -1). */
function hasSmallOrder(pt: { x: bigint; y: bigint }): boolean {
  let X = pt.x;
  let Y = pt.y;
  let Z = 1n;
  for (let i = 0; i < 3; i++) {
    // dbl-2008-hwcd
    const A = (X * X) % P;
    const B = (Y * Y) % P;
    const C = (2n * Z * Z) % P;
    const Dd = mod(-A);
    const E = mod((X + Y) * (X + Y) - A - B);
    const G = mod(Dd + B);
    const F = mod(G - C);
    const H = mod(Dd - B);
    X = (E * F) % P;
    Y = (G * H) % P;
    Z = (F * G) % P;
  }
  return X === 0n && Y === Z;
}

/** Why these bytes cannot be an agent's public key, or null when they can. */
export function ed25519PointViolation(bytes: Uint8Array): string | null {
  const pt = decodePoint(bytes);
  if (!pt) return 'is not a point on the Ed25519 curve (check that it is the public key, not the private key or a hash)';
  if (hasSmallOrder(pt)) return 'is a small-order Ed25519 point, for which signatures can be forged without the private key';
  return null;
}
