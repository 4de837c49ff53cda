/** GetProviderSchema: the schemas of the provider, its resources and data sources. */
import { dataSources, providerSchema, resources } from '../provider';
import { schemaToWire, type SchemaMsg } from '../schema/wire';

export function getProviderSchema(): Record<string, unknown> {
  const resourceSchemas: Record<string, SchemaMsg> = {};
  for (const r of resources) resourceSchemas[r.typeName] = schemaToWire(r.schema);
  const dataSourceSchemas: Record<string, SchemaMsg> = {};
  for (const d of dataSources) dataSourceSchemas[d.typeName] = schemaToWire(d.schema);
  return {
    provider: schemaToWire(providerSchema),
    resource_schemas: resourceSchemas,
    data_source_schemas: dataSourceSchemas,
    diagnostics: [],
    // Destroy is planned by core (null), so no plan_destroy. The schema is static, so
    // Terraform may cache it instead of asking every process.
    server_capabilities: { plan_destroy: false, get_provider_schema_optional: true, move_resource_state: false },
  };
}
