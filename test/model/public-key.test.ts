/**
 * Brought public keys: the shared rule (model/agent publicKeyViolations) accepts exactly the
 * canonical encodings of usable Ed25519 points. @noble/ed25519's strict RFC 8032 decoder is the
 * independent oracle; node:crypto is not one, since it imports any 32 bytes.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { publicKeyViolations } from '../../model/agent';
import { ed25519PointViolation } from '../../model/ed25519-point';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** What noble says: decodable (strict, not ZIP-215) and not of small order. */
function nobleAccepts(bytes: Uint8Array): boolean {
  try {
    return !ed.Point.fromBytes(bytes, false).isSmallOrder();
  } catch {
    return false;
  }
}

// The 8 small-order points' canonical encodings (as in libsodium's blocklist).
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
];

test('keys made by node:crypto and the RFC 8032 test keys are accepted', () => {
  for (let i = 0; i < 200; i++) {
    const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    expect(publicKeyViolations(jwk.x!)).toEqual([]);
  }
  for (const hex of ['d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025']) {
    expect(publicKeyViolations(b64(Buffer.from(hex, 'hex')))).toEqual([]);
  }
});

test('random bytes: accepted exactly when a strict RFC 8032 decoder accepts them (about half are no point)', () => {
  let rejected = 0;
  for (let i = 0; i < 2000; i++) {
    const bytes = randomBytes(32);
    const ours = ed25519PointViolation(bytes) === null;
    expect(ours).toBe(nobleAccepts(bytes));
    if (!ours) rejected++;
  }
  expect(rejected).toBeGreaterThan(700);
  expect(rejected).toBeLessThan(1300);
});

test('small-order points and non-canonical y are refused with a reason', () => {
  for (const hex of SMALL_ORDER) {
    const bytes = Buffer.from(hex, 'hex');
    expect(nobleAccepts(bytes)).toBe(false);
    const v = publicKeyViolations(b64(bytes));
    expect(v).toHaveLength(1);
    expect(v[0]).toMatch(/^public_key is (a small-order Ed25519 point|not a point on the Ed25519 curve)/);
  }
  expect(ed25519PointViolation(Buffer.from(SMALL_ORDER[4]!, 'hex'))).toMatch(/small-order/);
  // y = p + 1 (non-canonical encoding of y = 1): refused, not silently reduced.
  const yP1 = Buffer.from('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex');
  expect(ed25519PointViolation(yP1)).toMatch(/not a point/);
});

test('shape and canonical base64url come first, with the field name and a fix', () => {
  expect(publicKeyViolations('short', 'publicKey')).toEqual(['publicKey must be an Ed25519 public key: base64url (no padding) of the 32 raw bytes, 43 characters']);
  const good = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
  // The 43rd character carries 2 spare bits; flipping one gives the same bytes, non-canonically.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(good[42]!);
  const nonCanonical = good.slice(0, 42) + alphabet[last ^ 1];
  expect(Buffer.from(nonCanonical, 'base64url').equals(Buffer.from(good, 'base64url'))).toBe(true);
  const v = publicKeyViolations(nonCanonical);
  expect(v).toHaveLength(1);
  expect(v[0]).toContain(`did you mean "${good}"`);
});

test('the rule decodes keys itself (no Buffer, browsers run it): the same bytes and canonical form as node', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < 500; i++) {
    const bytes = randomBytes(32);
    const point = ed25519PointViolation(bytes);
    expect(publicKeyViolations(b64(bytes))).toEqual(point ? [`public_key ${point}`] : []);
    // Every spelling of the last character names the same bytes; only one is canonical.
    const key = b64(bytes);
    const spare = key.slice(0, 42) + alphabet[alphabet.indexOf(key[42]!) | 3];
    if (spare !== key) expect(publicKeyViolations(spare)[0]).toContain(`did you mean "${key}"`);
  }
});
