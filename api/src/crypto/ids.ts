/** Identifier helpers. */
import { randomFillSync } from 'node:crypto';

import { canonicalUuid, isUuid } from '../../../model/ids';

export { canonicalUuid, isUuid };

/**
 * The canonical spelling of an id a caller named, or `missing()` thrown: a malformed id is simply an
 * id that does not exist. The routes canonicalize already (schemas/ids.ts); a service still names a
 * thing by its row's id once it has read it (listeners, audit events, seals).
 */
export function requestedId(id: string, missing: () => Error): string {
  const canonical = canonicalUuid(id);
  if (canonical === null) throw missing();
  return canonical;
}

/**
 * Ids are issued in lowercase: this spelling only names the id in issuers, tokens and caches, so
 * an upper- or mixed-case variant is a different string that no cache entry or lookup may take.
 */
export function isCanonicalUuid(value: string): boolean {
  return isUuid(value) && value === value.toLowerCase();
}

let lastMs = 0;
let counter = 0;

/**
 * Random bytes drawn from the CSPRNG a few kilobytes at a time and each handed out once: one fill
 * per 256 ids instead of one per id (every token writes one).
 */
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;
const scratch = Buffer.alloc(16);

function randomInto(target: Buffer): void {
  if (poolOffset + target.length > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  POOL.copy(target, 0, poolOffset, poolOffset + target.length);
  poolOffset += target.length;
}

/**
 * RFC 9562 UUIDv7: 48-bit milliseconds, then a 12-bit per-millisecond counter (monotonic within
 * this process), then random bits. Time-ordered ids make `ORDER BY id` a stable creation order,
 * which is what keyset pagination walks.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    now = lastMs;
  } else {
    lastMs = now;
    counter = 0;
  }
  const b = scratch;
  randomInto(b);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | ((counter >> 8) & 0x0f);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
