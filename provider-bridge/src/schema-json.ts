/**
 * The provider schema in the exact JSON shape `terraform providers schema -json` prints,
 * built from the same schema objects the gRPC server serves (an acceptance test compares the
 * two). Feed it to @cdktf/provider-generator to produce CDKTF bindings without running terraform.
 */
import { PROVIDER_ADDRESS, dataSources, ephemeralResources, providerSchema, resources } from './provider';
import { attributeNames, typeToJson, type SchemaDef } from './schema/types';

export interface AttributeJson {
  type: unknown;
  description: string;
  description_kind: 'markdown';
  required?: true;
  optional?: true;
  computed?: true;
  sensitive?: true;
}

export interface SchemaJson {
  version: number;
  block: { attributes: Record<string, AttributeJson>; description: string; description_kind: 'markdown' };
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

export function schemaToJson(schema: SchemaDef): SchemaJson {
  const attributes: Record<string, AttributeJson> = {};
  for (const name of attributeNames(schema.block)) {
    const a = schema.block.attributes[name]!;
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
  return { version: schema.version, block: { attributes, description: schema.block.description, description_kind: 'markdown' } };
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
