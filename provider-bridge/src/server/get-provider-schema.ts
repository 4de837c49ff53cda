/** GetProviderSchema: the schemas of the provider, its resources, data sources and ephemeral resources. */
import { dataSources, ephemeralResources, providerSchema, resources } from '../provider';
import { schemaToWire, type SchemaMsg } from '../schema/wire';
import type { GetProviderSchema_ResponseInit } from './tfplugin6.gen';

export function getProviderSchema(): GetProviderSchema_ResponseInit {
  const resourceSchemas: Record<string, SchemaMsg> = {};
  for (const r of resources) resourceSchemas[r.typeName] = schemaToWire(r.schema);
  const dataSourceSchemas: Record<string, SchemaMsg> = {};
  for (const d of dataSources) dataSourceSchemas[d.typeName] = schemaToWire(d.schema);
  const ephemeralSchemas: Record<string, SchemaMsg> = {};
  for (const e of ephemeralResources) ephemeralSchemas[e.typeName] = schemaToWire(e.schema);
  return {
    provider: schemaToWire(providerSchema),
    resource_schemas: resourceSchemas,
    data_source_schemas: dataSourceSchemas,
    ephemeral_resource_schemas: ephemeralSchemas,
    diagnostics: [],
    // Destroy is planned by core (null), so no plan_destroy. The schema is static, so
    // Terraform may cache it instead of asking every process.
    server_capabilities: { plan_destroy: false, get_provider_schema_optional: true, move_resource_state: false },
  };
}
