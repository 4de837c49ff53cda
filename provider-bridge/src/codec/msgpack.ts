/**
 * DynamicValue codec (go-cty cty/msgpack). Conversion is type-directed: the schema type
 * decides how each wire value is read, and objects are always written with exactly one
 * entry per attribute, because Terraform's decoder rejects a missing or extra key.
 *
 * Unknowns: Terraform writes any msgpack extension for an unknown (plain: fixext1 type 0;
 * refined: ext 12 with a refinement map). Every extension type decodes to UNKNOWN and
 * refinements are ignored; we only ever write the plain form (d4 00 00).
 */
import { Decoder, Encoder, ExtData, ExtensionCodec } from '@msgpack/msgpack';
import type { TfType } from '../schema/types';
import { UNKNOWN, UnknownValue, isUnknown, type TfObject, type TfValue } from './values';

export class CodecError extends Error {
  constructor(
    message: string,
    readonly path: readonly string[],
  ) {
    super(path.length ? `${path.join('.')}: ${message}` : message);
    this.name = 'CodecError';
  }
}

const extensionCodec = new ExtensionCodec();
// Encode our unknown marker as the plain unknown: fixext1, type 0, payload 0x00.
extensionCodec.register({
  type: 0,
  encode: (input: unknown) => (input instanceof UnknownValue ? new Uint8Array([0]) : null),
  decode: () => UNKNOWN,
});
// Override the built-in timestamp extension (-1) so no extension ever decodes into a Date.
extensionCodec.register({ type: -1, encode: () => null, decode: (data: Uint8Array) => new ExtData(-1, data) });

const decoder = new Decoder({ extensionCodec, useBigInt64: true });
const encoder = new Encoder({ extensionCodec, useBigInt64: true, forceFloat32: false, sortKeys: true });

/**
 * Where a value sits, for error messages only: a node per container entered, turned into a list of
 * keys only when an error is thrown (building a path array per attribute cost more than decoding
 * the attribute, on every call of a plan).
 */
interface PathNode {
  readonly parent: PathNode | null;
  readonly key: string;
}

function keysOf(parent: PathNode | null, key?: string): string[] {
  const out: string[] = key === undefined ? [] : [key];
  for (let n = parent; n; n = n.parent) out.push(n.key);
  return out.reverse();
}

function at(parent: PathNode | null, key: string | undefined): PathNode | null {
  return key === undefined ? parent : { parent, key };
}

/** An object type's attribute names, sorted once per type: Terraform wants one entry per attribute, in order. */
const sortedNames = new WeakMap<Record<string, TfType>, string[]>();
function attributeOrder(attrs: Record<string, TfType>): string[] {
  let names = sortedNames.get(attrs);
  if (!names) sortedNames.set(attrs, (names = Object.keys(attrs).sort()));
  return names;
}

/** Raw (already msgpack-decoded) value that stands for an unknown. */
function isRawUnknown(raw: unknown): boolean {
  return raw === UNKNOWN || raw instanceof ExtData;
}

/** A number as JS number when it survives exactly, else its decimal text. */
function normalizeNumber(raw: unknown, parent: PathNode | null, key: string | undefined): number | string {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw.toString();
  if (typeof raw === 'string') {
    const n = Number(raw);
    if (raw.trim() === '' || Number.isNaN(n)) throw new CodecError(`"${raw}" is not a number`, keysOf(parent, key));
    return String(n) === raw ? n : raw;
  }
  throw new CodecError(`expected a number, got ${typeof raw}`, keysOf(parent, key));
}

/** Converts a plain decoded structure (msgpack or JSON) into a TfValue of `type`. */
export function fromRaw(type: TfType, raw: unknown): TfValue {
  return read(type, raw, null, undefined);
}

/** fromRaw at `key` below `parent` (key undefined: the top-level value). */
function read(type: TfType, raw: unknown, parent: PathNode | null, key: string | undefined): TfValue {
  if (raw === null || raw === undefined) return null;
  if (isRawUnknown(raw)) return UNKNOWN;
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        if (typeof raw === 'string') return raw;
        if (raw instanceof Uint8Array) return Buffer.from(raw).toString('utf8');
        throw new CodecError(`expected a string, got ${typeof raw}`, keysOf(parent, key));
      case 'number':
        return normalizeNumber(raw, parent, key);
      case 'bool':
        if (typeof raw === 'boolean') return raw;
        throw new CodecError(`expected a bool, got ${typeof raw}`, keysOf(parent, key));
    }
  }
  const [kind, inner] = type;
  const here = at(parent, key);
  if (kind === 'list' || kind === 'set') {
    if (!Array.isArray(raw)) throw new CodecError(`expected a ${kind}`, keysOf(parent, key));
    return raw.map((e, i) => read(inner as TfType, e, here, String(i)));
  }
  const entries = rawEntries(raw, parent, key);
  if (kind === 'map') {
    const out: Record<string, TfValue> = {};
    for (const [k, v] of entries) out[k] = read(inner as TfType, v, here, k);
    return out;
  }
  const attrs = inner as Record<string, TfType>;
  const given = new Map(entries);
  const out: Record<string, TfValue> = {};
  // Missing attributes read as null, so state written by older schema versions still loads.
  for (const name of Object.keys(attrs)) out[name] = read(attrs[name]!, given.get(name), here, name);
  return out;
}

function rawEntries(raw: unknown, parent: PathNode | null, key: string | undefined): [string, unknown][] {
  if (raw instanceof Map) return [...raw.entries()].map(([k, v]) => [String(k), v]);
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return Object.entries(raw);
  throw new CodecError('expected an object or map', keysOf(parent, key));
}

/** Converts a TfValue to the plain structure the msgpack encoder writes. */
function toRaw(type: TfType, v: TfValue | undefined, parent: PathNode | null, key: string | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (isUnknown(v)) return UNKNOWN;
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        if (typeof v !== 'string') throw new CodecError(`expected a string`, keysOf(parent, key));
        return v;
      case 'number':
        if (typeof v === 'number') return v;
        if (typeof v === 'string' && !Number.isNaN(Number(v))) return v; // exact decimal text
        throw new CodecError('expected a number', keysOf(parent, key));
      case 'bool':
        if (typeof v !== 'boolean') throw new CodecError('expected a bool', keysOf(parent, key));
        return v;
    }
  }
  const [kind, inner] = type;
  const here = at(parent, key);
  if (kind === 'list' || kind === 'set') {
    if (!Array.isArray(v)) throw new CodecError(`expected a ${kind}`, keysOf(parent, key));
    return v.map((e, i) => toRaw(inner as TfType, e, here, String(i)));
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw new CodecError('expected an object or map', keysOf(parent, key));
  const obj = v as TfObject;
  const out: Record<string, unknown> = {};
  if (kind === 'map') {
    for (const k of Object.keys(obj).sort()) out[k] = toRaw(inner as TfType, obj[k], here, k);
    return out;
  }
  const attrs = inner as Record<string, TfType>;
  // Exactly one entry per attribute; extra keys in `obj` are dropped on purpose.
  for (const name of attributeOrder(attrs)) out[name] = toRaw(attrs[name]!, obj[name], here, name);
  return out;
}

export function encodeMsgpack(type: TfType, v: TfValue): Buffer {
  const bytes = encoder.encode(toRaw(type, v, null, undefined));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeMsgpack(type: TfType, bytes: Uint8Array): TfValue {
  return fromRaw(type, decoder.decode(bytes));
}

/** DynamicValue as the gRPC codec (server/protos.ts) hands it over (bytes as Buffer, absent message as null). */
export interface DynamicValueMsg {
  msgpack?: Uint8Array | null;
  json?: Uint8Array | null;
}

/** Terraform's own rule: msgpack if present, else JSON, else a typed null. */
export function decodeDynamicValue(type: TfType, dv: DynamicValueMsg | null | undefined): TfValue {
  if (dv?.msgpack && dv.msgpack.length > 0) return decodeMsgpack(type, dv.msgpack);
  if (dv?.json && dv.json.length > 0) return fromRaw(type, JSON.parse(Buffer.from(dv.json).toString('utf8')));
  return null;
}

/** We always answer in msgpack: JSON cannot carry unknowns. */
export function encodeDynamicValue(type: TfType, v: TfValue): { msgpack: Buffer } {
  return { msgpack: encodeMsgpack(type, v) };
}
