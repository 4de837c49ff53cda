/** uuidv7 (api/src/crypto/ids.ts): RFC 9562 layout, time order, and no repeats across random-pool refills. */
import { uuidv7 } from '../../api/src/crypto/ids';

test('ids are version 7, RFC 9562 variant, time-ordered and distinct over many pool refills', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => uuidv7(1_700_000_000_000 + Math.floor(i / 3)));
  for (const id of ids.slice(0, 50)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(ids);
  // The random tail (the last 62 bits) differs between every two ids, not only the counter.
  expect(new Set(ids.map((id) => id.slice(19))).size).toBe(ids.length);
});
