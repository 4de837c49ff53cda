/** SchemaDef → tfplugin6.Schema message (the plain objects server/protos.ts encodes). */
import { attributeNames, typeToJson, type SchemaDef } from './types';

export interface SchemaMsg {
  version: string;
  block: {
    version: string;
    attributes: Array<{
      name: string;
      type: Buffer;
      description: string;
      description_kind: 'MARKDOWN';
      required: boolean;
      optional: boolean;
      computed: boolean;
      sensitive: boolean;
    }>;
    block_types: never[];
    description: string;
    description_kind: 'MARKDOWN';
  };
}

export function schemaToWire(schema: SchemaDef): SchemaMsg {
  return {
    version: String(schema.version),
    block: {
      version: '0',
      attributes: attributeNames(schema.block).map((name) => {
        const a = schema.block.attributes[name]!;
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
      block_types: [],
      description: schema.block.description,
      description_kind: 'MARKDOWN',
    },
  };
}
