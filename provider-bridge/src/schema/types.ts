/**
 * Terraform type and schema model used by every part of the provider: the wire schema
 * (GetProviderSchema), the msgpack codec, the JSON schema export and the docs generator
 * are all derived from these objects, so they cannot disagree.
 */

import { UnknownValue, type TfValue } from '../codec/values';
import type { PlanModifier } from '../plan/modifiers';

/** cty types in their JSON spelling (go-cty `Type.MarshalJSON`). */
export type TfType =
  | 'string'
  | 'number'
  | 'bool'
  | readonly ['list', TfType]
  | readonly ['set', TfType]
  | readonly ['map', TfType]
  | readonly ['object', { readonly [name: string]: TfType }];

export const str: TfType = 'string';
export const bool: TfType = 'bool';
export const setOf = (t: TfType): TfType => ['set', t] as const;
export const listOf = (t: TfType): TfType => ['list', t] as const;
export const mapOf = (t: TfType): TfType => ['map', t] as const;
export const objectOf = (attrs: Record<string, TfType>): TfType => ['object', attrs] as const;

export interface AttributeSchema {
  readonly type: TfType;
  /** Planned when the configuration leaves the attribute null (needs `computed`). */
  readonly default?: TfValue;
  /** Resource attributes only: run in order by the planner (see plan/planner.ts). */
  readonly planModifiers?: readonly PlanModifier[];
  /** Markdown; shown in `terraform providers schema`, registry-style docs and language servers. */
  readonly description: string;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
}

export interface BlockSchema {
  readonly description: string;
  readonly attributes: Readonly<Record<string, AttributeSchema>>;
  /** Nested blocks (`name { … }` in HCL), by type name. */
  readonly blocks?: Readonly<Record<string, NestedBlockSchema>>;
}

/**
 * tfplugin6 `Schema.NestedBlock`, in the two nesting modes the provider uses. A block value is a
 * collection of objects (never null once planned: no blocks is an empty collection).
 */
export interface NestedBlockSchema {
  readonly nesting: 'set' | 'list';
  readonly block: BlockSchema;
  /** Terraform rejects a configuration with more (0: no limit). */
  readonly maxItems?: number;
  /**
   * How the planner builds the planned collection from the configuration and the prior state,
   * before it decides whether the resource changes. A block whose objects carry server-assigned
   * values (ids) needs it: Terraform's proposed value for a set cannot correlate them.
   */
  readonly plan?: (prior: TfValue, config: TfValue) => TfValue;
}

export interface SchemaDef {
  /** Drives UpgradeResourceState; bump when the stored shape changes. */
  readonly version: number;
  readonly block: BlockSchema;
}

/** Schemas are built once and never change, so each block's type is built once (it is asked for on every call). */
const impliedTypes = new WeakMap<BlockSchema, TfType>();

/** The implied value type of a block: one object attribute per schema attribute and nested block. */
export function impliedType(block: BlockSchema): TfType {
  let type = impliedTypes.get(block);
  if (!type) {
    const attrs: Record<string, TfType> = {};
    for (const [name, a] of Object.entries(block.attributes)) attrs[name] = a.type;
    for (const [name, b] of Object.entries(block.blocks ?? {})) attrs[name] = [b.nesting, impliedType(b.block)] as const;
    type = objectOf(attrs);
    impliedTypes.set(block, type);
  }
  return type;
}

/** Sorted nested block type names (Terraform's order, as for attributes). */
export function blockNames(block: BlockSchema): string[] {
  return Object.keys(block.blocks ?? {}).sort();
}

/**
 * The value with every null nested block collection made empty, at any depth: Terraform never
 * holds a null block collection, and state written before a block existed lacks it.
 */
export function withEmptyBlocks(block: BlockSchema, value: TfValue): TfValue {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof UnknownValue) return value;
  const out: Record<string, TfValue> = { ...(value as { readonly [k: string]: TfValue }) };
  for (const [name, b] of Object.entries(block.blocks ?? {})) {
    const v = out[name] ?? null;
    if (v === null) out[name] = [];
    else if (Array.isArray(v)) out[name] = v.map((e: TfValue) => withEmptyBlocks(b.block, e));
  }
  return out;
}

/** Sorted attribute names: Terraform itself sorts them, and stable order keeps docs/JSON diffs clean. */
export function attributeNames(block: BlockSchema): string[] {
  return Object.keys(block.attributes).sort();
}

export function typeToJson(t: TfType): unknown {
  if (typeof t === 'string') return t;
  if (t[0] === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(t[1]).sort()) o[k] = typeToJson(t[1][k]!);
    return ['object', o];
  }
  return [t[0], typeToJson(t[1])];
}

/** Friendly type name for docs ("Set of String"), in the tfplugindocs spelling. */
export function typeToDocName(t: TfType): string {
  if (typeof t === 'string') return t === 'bool' ? 'Boolean' : t.charAt(0).toUpperCase() + t.slice(1);
  switch (t[0]) {
    case 'list':
      return `List of ${typeToDocName(t[1])}`;
    case 'set':
      return `Set of ${typeToDocName(t[1])}`;
    case 'map':
      return `Map of ${typeToDocName(t[1])}`;
    case 'object':
      return 'Object';
  }
}

/** Internal consistency rules Terraform enforces (configschema internal_validate). */
export function schemaViolations(name: string, block: BlockSchema): string[] {
  const out: string[] = [];
  for (const [attr, a] of Object.entries(block.attributes)) {
    const where = `${name}.${attr}`;
    if (!/^[a-z0-9_]+$/.test(attr)) out.push(`${where}: name must be lowercase letters, digits and _`);
    if (!a.required && !a.optional && !a.computed) out.push(`${where}: needs required, optional or computed`);
    if (a.required && (a.optional || a.computed)) out.push(`${where}: required excludes optional and computed`);
    if (!a.description) out.push(`${where}: missing description`);
  }
  for (const [blockName, b] of Object.entries(block.blocks ?? {})) {
    const where = `${name}.${blockName}`;
    if (blockName in block.attributes) out.push(`${where}: a block and an attribute share the name`);
    if (!/^[a-z0-9_]+$/.test(blockName)) out.push(`${where}: name must be lowercase letters, digits and _`);
    if (!b.block.description) out.push(`${where}: missing description`);
    out.push(...schemaViolations(where, b.block));
  }
  return out;
}
