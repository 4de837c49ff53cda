/** The msgpack DynamicValue codec against byte-level facts of go-cty's encoding, and nested blocks through it, the wire schema and the JSON schema. */
import { encode as rawEncode, ExtData } from '@msgpack/msgpack';
import { decodeDynamicValue, decodeMsgpack, encodeMsgpack, CodecError } from '../../provider-bridge/src/codec/msgpack';
import { UNKNOWN, isUnknown, isWhollyKnown, valuesEqual, type TfValue } from '../../provider-bridge/src/codec/values';
import { impliedType, mapOf, objectOf, setOf, str, typeToJson, type TfType } from '../../provider-bridge/src/schema/types';
import { schemaToWire } from '../../provider-bridge/src/schema/wire';
import { schemaToJson } from '../../provider-bridge/src/schema-json';
import { parseProtos } from '../../provider-bridge/src/server/protos';
import { upgradeResourceState } from '../../provider-bridge/src/server/upgrade-resource-state';
import { agentSchema } from '../../provider-bridge/src/resources/agent';
import { agentKeySchema } from '../../provider-bridge/src/resources/agent-key';
import { planCredentialBlocks } from '../../provider-bridge/src/resources/agent-federated-blocks';

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

describe('nested blocks', () => {
  const agentType = impliedType(agentSchema.block);
  const credential = { id: 'c1', issuer: 'https://ci.example.test', subject: 'repo:a/b', audience: 'https://cp/orgs/o', claims_json: '{"workflow":"release"}', jwks: null };
  const state = {
    id: 'u1', name: 'n', scopes: [], metadata: {}, public_key: null, secret: null, status: 'active', rotation_trigger: null,
    created_at: 'now', last_auth_at: null, may_act: [], federated_credential: [credential],
  };

  it('are part of the implied type: a SET block is a set of objects', () => {
    expect(typeToJson(agentType)).toMatchObject([
      'object',
      { federated_credential: ['set', ['object', { id: 'string', issuer: 'string', subject: 'string', audience: 'string', claims_json: 'string', jwks: 'string' }]] },
    ]);
  });

  it('round-trip through msgpack, an unknown id inside an element included', () => {
    expect(valuesEqual(agentType, decodeMsgpack(agentType, encodeMsgpack(agentType, state)), state)).toBe(true);
    const planned = { ...state, federated_credential: [{ ...credential, id: UNKNOWN }] };
    const decoded = decodeMsgpack(agentType, encodeMsgpack(agentType, planned)) as { federated_credential: Array<{ id: TfValue }> };
    expect(isUnknown(decoded.federated_credential[0]!.id)).toBe(true);
    // No blocks is an empty array on the wire (fixarray 0), never nil.
    const none = encodeMsgpack(agentType, { ...state, federated_credential: [] });
    expect(hex(none)).toContain(`${Buffer.from('federated_credential').toString('hex')}90`);
  });

  it('read as empty from state written before they existed (UpgradeResourceState)', () => {
    const { federated_credential: _omitted, ...old } = state;
    const upgraded = upgradeResourceState({ type_name: 'certusordo_agent', version: '0', raw_state: { json: Buffer.from(JSON.stringify(old)), flatmap: {} } });
    expect(upgraded.diagnostics).toEqual([]);
    const value = decodeDynamicValue(agentType, upgraded.upgraded_state as { msgpack: Buffer }) as { federated_credential: unknown };
    expect(value.federated_credential).toEqual([]);
  });

  it('are served as tfplugin6 NestedBlocks and in the `providers schema -json` shape', () => {
    const wire = schemaToWire(agentSchema);
    expect(wire.block.block_types).toEqual([
      expect.objectContaining({ type_name: 'federated_credential', nesting: 'SET', min_items: '0', max_items: '20' }),
    ]);
    expect(wire.block.block_types[0]!.block.attributes.map((a) => a.name)).toEqual(['audience', 'claims_json', 'id', 'issuer', 'jwks', 'subject']);
    // The message encodes with the real tfplugin6 descriptor.
    const type = parseProtos().lookupType('tfplugin6.Schema');
    const back = type.toObject(type.decode(type.encode(type.fromObject(wire)).finish()), { enums: String }) as { block: { block_types: Array<{ nesting: string }> } };
    expect(back.block.block_types[0]!.nesting).toBe('SET');
    const json = schemaToJson(agentSchema).block.block_types!.federated_credential!;
    expect(json).toMatchObject({ nesting_mode: 'set', max_items: 20, block: { attributes: { issuer: { type: 'string', required: true } } } });
    expect(schemaToJson(agentKeySchema).block.block_types).toBeUndefined();
  });
});

describe('federated_credential planning', () => {
  const prior = [{ id: 'c1', issuer: 'https://ci.example.test', subject: 's', audience: 'https://cp/orgs/o', claims_json: '{"a":1,"b":"x"}', jwks: null }];
  const configOf = (over: Record<string, unknown>) => [{ id: null, issuer: 'https://ci.example.test', subject: 's', audience: null, claims_json: '{"a":1,"b":"x"}', jwks: null, ...over }];

  it('plans an unchanged block as its prior object: unset audience and reformatted JSON included', () => {
    expect(planCredentialBlocks(prior, configOf({}))).toEqual(prior);
    expect(planCredentialBlocks(prior, configOf({ claims_json: '{ "b": "x", "a": 1 }', audience: 'https://cp/orgs/o' }))).toEqual(prior);
  });

  it('plans a changed or new block with an unknown id (and audience when unset)', () => {
    const [planned] = planCredentialBlocks(prior, configOf({ subject: 't' })) as Array<Record<string, TfValue>>;
    expect(isUnknown(planned!.id)).toBe(true);
    expect(isUnknown(planned!.audience)).toBe(true);
    const [custom] = planCredentialBlocks(prior, configOf({ audience: 'https://cp/custom' })) as Array<Record<string, TfValue>>;
    expect(custom!.audience).toBe('https://cp/custom');
    expect(planCredentialBlocks(prior, [])).toEqual([]);
  });
});
