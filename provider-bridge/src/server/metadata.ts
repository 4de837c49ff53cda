/** The small informational RPCs: GetMetadata, GetResourceIdentitySchemas, GetFunctions. */
import { dataSources, ephemeralResources, resources } from '../provider';

export function getMetadata(): Record<string, unknown> {
  return {
    server_capabilities: { plan_destroy: false, get_provider_schema_optional: true, move_resource_state: false },
    diagnostics: [],
    resources: resources.map((r) => ({ type_name: r.typeName })),
    data_sources: dataSources.map((d) => ({ type_name: d.typeName })),
    ephemeral_resources: ephemeralResources.map((e) => ({ type_name: e.typeName })),
  };
}

/** Terraform calls this after every GetProviderSchema; we have no resource identities. */
export function getResourceIdentitySchemas(): Record<string, unknown> {
  return { identity_schemas: {}, diagnostics: [] };
}

export function getFunctions(): Record<string, unknown> {
  return { functions: {}, diagnostics: [] };
}
