/** The msgpack DynamicValue codec against byte-level facts of go-cty's encoding. */
import { encode as rawEncode, ExtData } from '@msgpack/msgpack';
import { decodeDynamicValue, decodeMsgpack, encodeMsgpack, CodecError } from '../../provider-bridge/src/codec/msgpack';
import { UNKNOWN, isUnknown, isWhollyKnown, valuesEqual } from '../../provider-bridge/src/codec/values';
import { impliedType, mapOf, objectOf, setOf, str, type TfType } from '../../provider-bridge/src/schema/types';
import { agentSchema } from '../../provider-bridge/src/resources/agent';

const obj = objectOf({ a: str, n: 'number', s: setOf(str), m: mapOf(str), b: 'bool' });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('msgpack codec', () => {
  it('decodes the plain unknown (fixext1 type 0) anywhere', () => {
    expect(isUnknown(decodeMsgpack(str, Buffer.from('d40000', 'hex')))).toBe(true);
    const v = decodeMsgpack(obj, rawEncode({ a: new ExtData(0, new Uint8Array([0])), n: 1, s: null, m: null, b: true })) as any;
    expect(isUnknown(v.a)).toBe(true);
    expect(v.n).toBe(1);
  });

  it('decodes a refined unknown (ext 12 with a refinement map) as unknown', () => {
    const refinement = rawEncode(new Map<number, unknown>([[1, false], [2, 'prefix-']]));
    const wire = rawEncode({ a: new ExtData(12, refinement), n: null, s: null, m: null, b: null });
    const v = decodeMsgpack(obj, wire) as any;
    expect(isUnknown(v.a)).toBe(true);
    expect(isWhollyKnown(v)).toBe(false);
  });

  it('treats any other extension type, including -1 (timestamp), as unknown', () => {
    for (const type of [1, 5, 42, 127, -1]) {
      const v = decodeMsgpack(setOf(str), rawEncode([new ExtData(type, new Uint8Array([1, 2, 3]))])) as any[];
      expect(isUnknown(v[0])).toBe(true);
    }
  });

  it('accepts numbers as int, float or decimal string and keeps exactness', () => {
    expect(decodeMsgpack('number', rawEncode('0.1'))).toBe(0.1);
    expect(decodeMsgpack('number', Buffer.from('a3302e31', 'hex'))).toBe(0.1); // what terraform sends for 0.1
    expect(decodeMsgpack('number', rawEncode(42))).toBe(42);
    expect(decodeMsgpack('number', rawEncode(1.5))).toBe(1.5);
    expect(decodeMsgpack('number', rawEncode('123456789012345678901234567890'))).toBe('123456789012345678901234567890');
    expect(decodeMsgpack('number', rawEncode(18446744073709551615n, { useBigInt64: true }))).toBe('18446744073709551615');
    expect(() => decodeMsgpack('number', rawEncode('abc'))).toThrow(CodecError);
    // encoding: exact text round-trips as a string, ints as ints, fractions as float64
    expect(hex(encodeMsgpack('number', '123456789012345678901234567890'))).toBe(hex(rawEncode('123456789012345678901234567890')));
    expect(hex(encodeMsgpack('number', 7))).toBe('07');
    expect(hex(encodeMsgpack('number', 0.5))).toBe('cb3fe0000000000000');
  });

  it('names where a bad value sits, in decoding and in encoding', () => {
    const nested = objectOf({ outer: objectOf({ tags: setOf('number'), labels: mapOf('bool') }) });
    const failure = (f: () => unknown): { path: readonly string[]; message: string } => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(CodecError);
        return err as CodecError;
      }
      throw new Error('no CodecError');
    };
    expect(failure(() => decodeMsgpack(nested, rawEncode({ outer: { tags: [1, 'x'], labels: null } })))).toMatchObject({ path: ['outer', 'tags', '1'], message: 'outer.tags.1: "x" is not a number' });
    expect(failure(() => decodeMsgpack(nested, rawEncode({ outer: { tags: null, labels: { on: 'yes' } } })))).toMatchObject({ path: ['outer', 'labels', 'on'] });
    expect(failure(() => decodeMsgpack(nested, rawEncode({ outer: 5 })))).toMatchObject({ path: ['outer'] });
    expect(failure(() => decodeMsgpack('bool', rawEncode('true')))).toMatchObject({ path: [], message: 'expected a bool, got string' });
    expect(failure(() => encodeMsgpack(nested, { outer: { tags: [1, true as never], labels: null } }))).toMatchObject({ path: ['outer', 'tags', '1'] });
    // The same decoder keeps working after a failure (no path state left behind).
    expect(decodeMsgpack(nested, rawEncode({ outer: { tags: [1], labels: { on: true } } }))).toEqual({ outer: { tags: [1], labels: { on: true } } });
  });

  it('writes the plain unknown as d4 00 00', () => {
    expect(hex(encodeMsgpack(str, UNKNOWN))).toBe('d40000');
  });

  it('emits every attribute, with nil for unset ones, keys sorted, strings as str', () => {
    const bytes = encodeMsgpack(obj, { a: 'x' });
    // fixmap(5): a="x", b=nil, m=nil, n=nil, s=nil
    expect(hex(bytes)).toBe('85' + 'a161a178' + 'a162c0' + 'a16dc0' + 'a16ec0' + 'a173c0');
    expect(hex(encodeMsgpack(str, 'é'))).toBe('a2c3a9'); // str, never bin
  });

  it('drops keys that are not attributes, so terraform never sees "unsupported attribute"', () => {
    const back = decodeMsgpack(obj, encodeMsgpack(obj, { a: 'x', extra: 'y' } as any)) as any;
    expect(Object.keys(back).sort()).toEqual(['a', 'b', 'm', 'n', 's']);
  });

  it('encodes null as nil and reads an absent DynamicValue as null', () => {
    expect(hex(encodeMsgpack(obj, null))).toBe('c0');
    expect(decodeDynamicValue(obj, null)).toBeNull();
    expect(decodeDynamicValue(obj, { msgpack: Buffer.alloc(0), json: Buffer.alloc(0) })).toBeNull();
  });

  it('falls back to the JSON form', () => {
    const v = decodeDynamicValue(obj, { json: Buffer.from(JSON.stringify({ a: 'x', n: 12345678901234567890, s: ['p'], m: { k: 'v' }, b: false })) }) as any;
    expect(v).toMatchObject({ a: 'x', s: ['p'], m: { k: 'v' }, b: false });
  });

  it('round-trips an agent state', () => {
    const t: TfType = impliedType(agentSchema.block);
    const state = {
      id: 'u1', name: 'n', scopes: ['a:b', 'c'], metadata: { k: 'v' }, public_key: 'pk', secret: null,
      status: 'active', rotation_trigger: null, created_at: 'now', last_auth_at: null,
    };
    expect(valuesEqual(t, decodeMsgpack(t, encodeMsgpack(t, state)), state)).toBe(true);
  });

  it('compares sets without order and never equates unknowns', () => {
    expect(valuesEqual(setOf(str), ['a', 'b'], ['b', 'a'])).toBe(true);
    expect(valuesEqual(setOf(str), ['a'], ['a', 'b'])).toBe(false);
    expect(valuesEqual(str, UNKNOWN, UNKNOWN)).toBe(false);
  });
});
