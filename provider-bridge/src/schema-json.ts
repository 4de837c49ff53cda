/**
 * The provider schema in the exact JSON shape `terraform providers schema -json` prints,
 * built from the same schema objects the gRPC server serves (an acceptance test compares the
 * two). Feed it to @cdktf/provider-generator to produce CDKTF bindings without running terraform.
 */
import { PROVIDER_ADDRESS, dataSources, ephemeralResources, providerSchema, resources } from './provider';
import { attributeNames, blockNames, typeToJson, type BlockSchema, type SchemaDef } from './schema/types';

export interface AttributeJson {
  type: unknown;
  description: string;
  description_kind: 'markdown';
  required?: true;
  optional?: true;
  computed?: true;
  sensitive?: true;
}

export interface BlockJson {
  attributes: Record<string, AttributeJson>;
  /** Absent when the block has no nested blocks, as Terraform prints it. */
  block_types?: Record<string, NestedBlockJson>;
  description: string;
  description_kind: 'markdown';
}

/** Terraform prints min_items/max_items only when they are not 0. */
export interface NestedBlockJson {
  nesting_mode: 'set' | 'list';
  block: BlockJson;
  max_items?: number;
}

export interface SchemaJson {
  version: number;
  block: BlockJson;
}

export interface ProviderSchemasJson {
  format_version: '1.0';
  provider_schemas: Record<
    string,
    {
      provider: SchemaJson;
      resource_schemas: Record<string, SchemaJson>;
      data_source_schemas: Record<string, SchemaJson>;
      ephemeral_resource_schemas: Record<string, SchemaJson>;
    }
  >;
}

function blockToJson(block: BlockSchema): BlockJson {
  const attributes: Record<string, AttributeJson> = {};
  for (const name of attributeNames(block)) {
    const a = block.attributes[name]!;
    // Terraform omits false flags; key order follows its output.
    attributes[name] = {
      type: typeToJson(a.type),
      description: a.description,
      description_kind: 'markdown',
      ...(a.required ? { required: true as const } : {}),
      ...(a.optional ? { optional: true as const } : {}),
      ...(a.computed ? { computed: true as const } : {}),
      ...(a.sensitive ? { sensitive: true as const } : {}),
    };
  }
  const names = blockNames(block);
  const blockTypes: Record<string, NestedBlockJson> = {};
  for (const name of names) {
    const b = block.blocks![name]!;
    blockTypes[name] = { nesting_mode: b.nesting, block: blockToJson(b.block), ...(b.maxItems ? { max_items: b.maxItems } : {}) };
  }
  return { attributes, ...(names.length ? { block_types: blockTypes } : {}), description: block.description, description_kind: 'markdown' };
}

export function schemaToJson(schema: SchemaDef): SchemaJson {
  return { version: schema.version, block: blockToJson(schema.block) };
}

export function providerSchemaJson(): ProviderSchemasJson {
  const byName = <T extends { typeName: string; schema: SchemaDef }>(defs: readonly T[]): Record<string, SchemaJson> =>
    Object.fromEntries([...defs].sort((a, b) => a.typeName.localeCompare(b.typeName)).map((d) => [d.typeName, schemaToJson(d.schema)]));
  return {
    format_version: '1.0',
    provider_schemas: {
      [PROVIDER_ADDRESS]: {
        provider: schemaToJson(providerSchema),
        resource_schemas: byName(resources),
        data_source_schemas: byName(dataSources),
        ephemeral_resource_schemas: byName(ephemeralResources),
      },
    },
  };
}
