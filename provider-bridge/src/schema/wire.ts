/** SchemaDef → tfplugin6.Schema message (the plain objects server/protos.ts encodes). */
import { attributeNames, blockNames, typeToJson, type BlockSchema, type SchemaDef } from './types';

export interface AttributeMsg {
  name: string;
  type: Buffer;
  description: string;
  description_kind: 'MARKDOWN';
  required: boolean;
  optional: boolean;
  computed: boolean;
  sensitive: boolean;
}

export interface BlockMsg {
  version: string;
  attributes: AttributeMsg[];
  block_types: NestedBlockMsg[];
  description: string;
  description_kind: 'MARKDOWN';
}

/** tfplugin6.Schema.NestedBlock; min_items is always 0 (no block is required). */
export interface NestedBlockMsg {
  type_name: string;
  block: BlockMsg;
  nesting: 'SET' | 'LIST';
  min_items: string;
  max_items: string;
}

export interface SchemaMsg {
  version: string;
  block: BlockMsg;
}

function blockToWire(block: BlockSchema): BlockMsg {
  return {
    version: '0',
    attributes: attributeNames(block).map((name) => {
      const a = block.attributes[name]!;
      return {
        name,
        // The type is the JSON text itself, quotes included (e.g. `"string"`).
        type: Buffer.from(JSON.stringify(typeToJson(a.type))),
        description: a.description,
        description_kind: 'MARKDOWN' as const,
        required: a.required === true,
        optional: a.optional === true,
        computed: a.computed === true,
        sensitive: a.sensitive === true,
      };
    }),
    block_types: blockNames(block).map((name) => {
      const b = block.blocks![name]!;
      return {
        type_name: name,
        block: blockToWire(b.block),
        nesting: b.nesting === 'set' ? ('SET' as const) : ('LIST' as const),
        min_items: '0',
        max_items: String(b.maxItems ?? 0),
      };
    }),
    description: block.description,
    description_kind: 'MARKDOWN',
  };
}

export function schemaToWire(schema: SchemaDef): SchemaMsg {
  return { version: String(schema.version), block: blockToWire(schema.block) };
}
