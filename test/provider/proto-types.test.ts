/**
 * provider-bridge/src/server/tfplugin6.gen.ts must be exactly what `npm run generate:proto` makes
 * from the .proto files, and the generator's mapping must describe the objects the real codec
 * (server/protos.ts, the one the gRPC server uses) actually produces.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import type * as grpc from '@grpc/grpc-js';
import {
  alwaysPresentFields,
  assertModelledOptions,
  fieldType,
  generatedFile,
  oneofKeys,
  tsName,
  valueType,
  writeProtoTypes,
} from '../../provider-bridge/src/proto-gen/generate';
import { TO_OBJECT, loadServices, parseProtos } from '../../provider-bridge/src/server/protos';
import { providerHandlers } from '../../provider-bridge/src/server/service';
import { createContext } from '../../provider-bridge/src/server/context';
import type { Logger } from '../../provider-bridge/src/log';

test('the checked-in tfplugin6.gen.ts is what the generator makes from the .proto files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-proto-gen-'));
  try {
    const fresh = path.join(dir, 'tfplugin6.gen.ts');
    writeProtoTypes(fresh);
    const checkedIn = generatedFile();
    if (fs.readFileSync(fresh, 'utf8') !== fs.readFileSync(checkedIn, 'utf8')) {
      throw new Error(`${path.relative(process.cwd(), checkedIn)} is out of date: run \`npm run generate:proto\` and commit the result`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the generator refuses conversion options it does not describe', () => {
  expect(() => assertModelledOptions(TO_OBJECT)).not.toThrow();
  expect(() => assertModelledOptions({ ...TO_OBJECT, longs: Number })).toThrow(/TO_OBJECT\.longs/);
  expect(() => assertModelledOptions({ ...TO_OBJECT, bytes: String })).toThrow(/TO_OBJECT\.bytes/);
});

const root = parseProtos();
const services = loadServices();
const provider = services.provider as Record<string, grpc.MethodDefinition<object, object>>;
const messages = [...function* all(ns: protobuf.NamespaceBase): Generator<protobuf.Type> {
  for (const c of ns.nestedArray) {
    if (c instanceof protobuf.Type) yield c;
    if (c instanceof protobuf.Namespace || c instanceof protobuf.Type) yield* all(c);
  }
}(root)];

/** A value for every field (the first member of each oneof), as a handler would return it. */
function sample(t: protobuf.Type, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of t.fieldsArray) {
    if (f.partOf && f.partOf.fieldsArray[0] !== f) continue;
    const one = sampleValue(f, depth);
    if (one === undefined) continue;
    out[f.name] = f.map ? { k: one } : f.repeated ? [one, one] : one;
  }
  return out;
}

function sampleValue(f: protobuf.Field, depth: number): unknown {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Enum) return Object.keys(rt.values).at(-1);
  // Schema.Block nests itself through NestedBlock: stop after a few levels.
  if (rt instanceof protobuf.Type) return depth < 3 ? sample(rt, depth + 1) : undefined;
  switch (f.type) {
    case 'string':
      return 'text';
    case 'bool':
      return true;
    case 'bytes':
      return Buffer.from([1, 2, 3]);
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return '9007199254740993'; // 2^53 + 1: survives only as a decimal string
    default:
      return 7;
  }
}

/** Checks a decoded value against the TypeScript type the generator wrote for its field. */
function checkValue(f: protobuf.Field, value: unknown, where: string): void {
  const ts = fieldType(f, 'decoded');
  if (f.map) {
    expect(ts).toMatch(/^\{ \[key: string\]: /);
    for (const [k, v] of Object.entries(value as object)) checkOne(f, v, `${where}[${k}]`);
  } else if (f.repeated) {
    expect(ts).toMatch(/\[\]$|^Array</);
    expect(Array.isArray(value)).toBe(true);
    (value as unknown[]).forEach((v, i) => checkOne(f, v, `${where}[${i}]`));
  } else if (value === null) {
    expect({ where, ts }).toEqual({ where, ts: expect.stringMatching(/ \| null$/) });
  } else {
    checkOne(f, value, where);
  }
}

function checkOne(f: protobuf.Field, value: unknown, where: string): void {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Type) return checkMessage(rt, value as Record<string, unknown>, where);
  const ts = valueType(f, 'decoded');
  if (rt instanceof protobuf.Enum) {
    expect({ where, ts, name: value }).toEqual({ where, ts: `${tsName(rt)} | number`, name: expect.any(String) });
    expect(Object.keys(rt.values)).toContain(value);
    return;
  }
  const kind = value instanceof Uint8Array ? 'Uint8Array' : typeof value;
  expect({ where, kind }).toEqual({ where, kind: ts });
}

function checkMessage(t: protobuf.Type, obj: Record<string, unknown>, where: string): void {
  const always = alwaysPresentFields(t);
  const allowed = new Set([...always, ...oneofKeys(t)]);
  for (const k of always) expect({ where, present: k in obj, k }).toEqual({ where, present: true, k });
  for (const k of Object.keys(obj)) expect({ where, known: allowed.has(k), k }).toEqual({ where, known: true, k });
  for (const o of t.oneofsArray) {
    const set = o.fieldsArray.filter((f) => f.name in obj).map((f) => f.name);
    expect({ where, oneof: o.name, tag: obj[o.name] }).toEqual({ where, oneof: o.name, tag: set[0] });
  }
  for (const f of t.fieldsArray) if (f.name in obj) checkValue(f, obj[f.name], `${where}.${f.name}`);
}

describe.each(messages.map((t) => [t.fullName, t] as const))('%s decodes as its generated type says', (_name, t) => {
  const roundTrip = (o: object) => t.toObject(t.decode(t.encode(t.fromObject(o)).finish()), TO_OBJECT) as Record<string, unknown>;

  it('empty on the wire: every field outside a oneof present, no oneof member', () => {
    checkMessage(t, roundTrip({}), t.name);
  });

  it('every field set', () => {
    checkMessage(t, roundTrip(sample(t)), t.name);
  });
});

test('requests through the service definitions the gRPC server uses are the generated request types', () => {
  for (const [rpc, def] of Object.entries(provider)) {
    const type = root.lookupService('tfplugin6.Provider').methods[rpc]!.resolvedRequestType!;
    const decoded = def.requestDeserialize(def.requestSerialize(sample(type)));
    checkMessage(type, decoded as Record<string, unknown>, rpc);
    expect(alwaysPresentFields(type).every((k) => k in (def.requestDeserialize(Buffer.alloc(0)) as object))).toBe(true);
  }
});

test('a failing StopProvider reports its error in Response.Error, the field Terraform reads', async () => {
  const throwing: Logger = {
    log: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: () => {
      throw new Error('log sink closed');
    },
    error: () => undefined,
  };
  const ctx = createContext(throwing, {});
  const reply: object = await providerHandlers(ctx).StopProvider({});
  const def = provider.StopProvider!;
  const onTheWire = def.responseDeserialize(def.responseSerialize(reply)) as { Error: string };
  expect(onTheWire.Error).toMatch(/StopProvider: log sink closed/);
});
