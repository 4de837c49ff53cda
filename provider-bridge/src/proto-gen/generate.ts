/**
 * Generates src/server/tfplugin6.gen.ts: TypeScript types for every message, enum and service of
 * the .proto files the provider serves, read with protobufjs reflection exactly as
 * server/protos.ts loads them (same files, same parse options).
 *
 *   npm run generate:proto              # rewrites the file
 *   npm run generate:proto -- --check   # exits 1 when the checked-in file is stale
 *
 * The codec is asymmetric, so each message gets two types:
 * - `X` is the object a handler receives: `toObject(decode(bytes), TO_OBJECT)`. Field names as
 *   written in the .proto; every field present (defaults: true), a nested message absent on the
 *   wire is null, int64 is a decimal string, an enum is its name (or a number the .proto does not
 *   name), bytes are a Uint8Array (a Buffer in node). A oneof's own name holds the name of its set
 *   field; members of a oneof, proto3 `optional` ones included, are present only when set.
 * - `XInit` is what a handler may return: what `fromObject` turns into that message. Every field is
 *   optional, and null means unset, as fromObject reads it. It is narrower than what fromObject tolerates on purpose: enums by name only (an
 *   unknown name silently becomes 0), bytes as Uint8Array only (a string would be read as base64),
 *   at most one member of a oneof, and no unknown keys (fromObject drops them without a word).
 *
 * The generated file holds types only: it adds nothing to the bundle or to start-up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { PROTO_FILES, TO_OBJECT, parseProtos, protoDir } from '../server/protos';

/** The conversion these types describe; anything else in TO_OBJECT makes them wrong. */
const MODELLED_OPTIONS: Readonly<protobuf.IConversionOptions> = { longs: String, enums: String, oneofs: true, defaults: true };

/** provider-bridge/src/server/tfplugin6.gen.ts, from source or from dist. */
export function generatedFile(): string {
  return path.resolve(protoDir(), '../src/server/tfplugin6.gen.ts');
}

export function assertModelledOptions(options: Readonly<protobuf.IConversionOptions> = TO_OBJECT): void {
  const keys = new Set([...Object.keys(options), ...Object.keys(MODELLED_OPTIONS)]) as Set<keyof protobuf.IConversionOptions>;
  for (const k of keys) {
    if (options[k] !== MODELLED_OPTIONS[k]) {
      throw new Error(`server/protos.ts TO_OBJECT.${k} changed: update src/proto-gen/generate.ts to describe the new conversion, then regenerate`);
    }
  }
}

/** TypeScript name of a reflected type: `tfplugin6.Schema.Block` → `Schema_Block`, `plugin.Empty` → `plugin_Empty`. */
export function tsName(t: protobuf.ReflectionObject): string {
  const parts = t.fullName.replace(/^\./, '').split('.');
  if (parts[0] === 'tfplugin6') parts.shift();
  return parts.join('_');
}

export type Form = 'decoded' | 'init';

const NUMBER_TYPES = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function scalarType(type: string, form: Form): string {
  if (NUMBER_TYPES.has(type)) return 'number';
  if (LONG_TYPES.has(type)) return form === 'decoded' ? 'string' : 'number | string';
  if (type === 'bool') return 'boolean';
  if (type === 'string') return 'string';
  if (type === 'bytes') return 'Uint8Array';
  throw new Error(`unsupported scalar type ${type}`);
}

/** The type of one value of the field (an element for repeated fields, a value for maps). */
export function valueType(f: protobuf.Field, form: Form): string {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Enum) return form === 'decoded' ? `${tsName(rt)} | number` : tsName(rt);
  if (rt instanceof protobuf.Type) return form === 'decoded' ? tsName(rt) : `${tsName(rt)}Init`;
  return scalarType(f.type, form);
}

export function fieldType(f: protobuf.Field, form: Form): string {
  const v = valueType(f, form);
  const ro = form === 'init' ? 'readonly ' : '';
  const orNull = form === 'init' ? ' | null' : '';
  if (f.map) return `{ ${ro}[key: string]: ${v} }${orNull}`;
  if (f.repeated) return `${v.includes(' ') ? `${ro}Array<${v}>` : `${ro}${v}[]`}${orNull}`;
  // fromObject reads null as unset; toObject gives null only for an absent message outside a oneof.
  if (form === 'init' || (f.resolvedType instanceof protobuf.Type && !f.partOf)) return `${v} | null`;
  return v;
}

const isSynthetic = (o: protobuf.OneOf): boolean =>
  o.fieldsArray.length === 1 && (o.fieldsArray[0]!.options as { proto3_optional?: boolean } | undefined)?.proto3_optional === true;

/** Fields toObject always sets with `defaults: true`: every field outside a oneof. */
export function alwaysPresentFields(t: protobuf.Type): string[] {
  return t.fieldsArray.filter((f) => !f.partOf).map((f) => f.name);
}

/** Keys toObject may add when a oneof member is set: the member and (oneofs: true) the oneof's name. */
export function oneofKeys(t: protobuf.Type): string[] {
  return t.oneofsArray.flatMap((o) => [o.name, ...o.fieldsArray.map((f) => f.name)]);
}

const lit = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const prop = (name: string): string => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : lit(name));

/** A message declared only to group others (e.g. `GetMetadata` around its Request and Response). */
const isNamespaceOnly = (t: protobuf.Type): boolean => t.fieldsArray.length === 0 && t.nestedArray.length > 0;

function messageType(t: protobuf.Type, form: Form): string {
  const name = form === 'decoded' ? tsName(t) : `${tsName(t)}Init`;
  const doc = `/** ${t.fullName.replace(/^\./, '')}${form === 'decoded' ? ', as a handler receives it' : ', as fromObject accepts it'}. */`;
  const base: string[] = [];
  for (const f of t.fieldsArray) {
    if (f.partOf && !isSynthetic(f.partOf)) continue;
    const optional = form === 'init' || f.partOf ? '?' : '';
    base.push(`${prop(f.name)}${optional}: ${fieldType(f, form)};`);
    if (f.partOf && form === 'decoded') base.push(`${prop(f.partOf.name)}?: ${lit(f.name)};`);
  }
  const unions = t.oneofsArray
    .filter((o) => !isSynthetic(o))
    .map((o) => {
      const branch = (set: protobuf.Field | null): string => {
        const members = o.fieldsArray.map((f) => (f === set ? `${prop(f.name)}: ${valueType(f, form)}` : `${prop(f.name)}?: ${form === 'init' ? 'null' : 'undefined'}`));
        const tag = form === 'decoded' ? [set ? `${prop(o.name)}: ${lit(set.name)}` : `${prop(o.name)}?: undefined`] : [];
        return `{ ${[...tag, ...members].join('; ')} }`;
      };
      return [...o.fieldsArray.map(branch), branch(null)].map((b) => `\n  | ${b}`).join('');
    });
  if (!base.length && !unions.length) return `${doc}\nexport type ${name} = Record<string, never>;\n`;
  if (!unions.length) return `${doc}\nexport interface ${name} {\n${base.map((l) => `  ${l}\n`).join('')}}\n`;
  const parts = [...(base.length ? [`{\n${base.map((l) => `  ${l}\n`).join('')}}`] : []), ...unions.map((u) => (base.length || unions.length > 1 ? `(${u}\n)` : u))];
  return `${doc}\nexport type ${name} =${parts.length > 1 ? ' ' : ''}${parts.join(' & ')};\n`;
}

function enumType(e: protobuf.Enum): string {
  const names = Object.keys(e.values).map(lit);
  return `/** ${e.fullName.replace(/^\./, '')} by name. */\nexport type ${tsName(e)} = ${names.join(' | ')};\n`;
}

function serviceType(s: protobuf.Service): string {
  const lines = s.methodsArray.map((m) => {
    m.resolve();
    const req = tsName(m.resolvedRequestType!);
    const res = tsName(m.resolvedResponseType!);
    return (
      `  ${m.name}: {\n` +
      `    request: ${req};\n    requestInit: ${req}Init;\n    response: ${res};\n    responseInit: ${res}Init;\n` +
      `    requestStream: ${m.requestStream === true};\n    responseStream: ${m.responseStream === true};\n  };\n`
    );
  });
  const doc = `/** ${s.fullName.replace(/^\./, '')}: per RPC, what each side receives (request, response) and may send (the Init forms). */`;
  return `${doc}\nexport interface ${tsName(s)}_Rpcs {\n${lines.join('')}}\n`;
}

function* walk(ns: protobuf.NamespaceBase): Generator<protobuf.ReflectionObject> {
  for (const child of ns.nestedArray) {
    yield child;
    if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) yield* walk(child);
  }
}

/** The whole generated file for a parsed root. */
export function renderProtoTypes(root: protobuf.Root = parseProtos()): string {
  assertModelledOptions();
  const out: string[] = [
    `// Generated by provider-bridge/src/proto-gen/generate.ts from ${PROTO_FILES.map((f) => `proto/${f}`).join(' and ')}.\n` +
      '// Do not edit: change the .proto and run `npm run generate:proto` (test/provider/proto-types.test.ts checks it).\n',
  ];
  for (const obj of walk(root)) {
    if (obj instanceof protobuf.Type && isNamespaceOnly(obj)) continue;
    if (obj instanceof protobuf.Type) out.push(messageType(obj, 'decoded'), messageType(obj, 'init'));
    else if (obj instanceof protobuf.Enum) out.push(enumType(obj));
    else if (obj instanceof protobuf.Service) out.push(serviceType(obj));
  }
  return out.join('\n');
}

/** Writes the generated file; returns whether its content changed. */
export function writeProtoTypes(outFile: string = generatedFile(), root?: protobuf.Root): boolean {
  const text = renderProtoTypes(root);
  const current = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : null;
  if (current === text) return false;
  fs.writeFileSync(outFile, text);
  return true;
}

if (require.main === module) {
  const file = generatedFile();
  const rel = path.relative(process.cwd(), file);
  if (process.argv.includes('--check')) {
    const stale = !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== renderProtoTypes();
    process.stderr.write(stale ? `${rel} is stale: run npm run generate:proto\n` : `${rel} up to date\n`);
    process.exitCode = stale ? 1 : 0;
  } else {
    process.stderr.write(writeProtoTypes(file) ? `wrote ${rel}\n` : `${rel} up to date\n`);
  }
}
