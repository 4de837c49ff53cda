/** The small informational RPCs: GetMetadata, GetResourceIdentitySchemas, GetFunctions. */
import { dataSources, ephemeralResources, resources } from '../provider';
import type { GetFunctions_ResponseInit, GetMetadata_ResponseInit, GetResourceIdentitySchemas_ResponseInit } from './tfplugin6.gen';

export function getMetadata(): GetMetadata_ResponseInit {
  return {
    server_capabilities: { plan_destroy: false, get_provider_schema_optional: true, move_resource_state: false },
    diagnostics: [],
    resources: resources.map((r) => ({ type_name: r.typeName })),
    data_sources: dataSources.map((d) => ({ type_name: d.typeName })),
    ephemeral_resources: ephemeralResources.map((e) => ({ type_name: e.typeName })),
  };
}

/** Terraform calls this after every GetProviderSchema; we have no resource identities. */
export function getResourceIdentitySchemas(): GetResourceIdentitySchemas_ResponseInit {
  return { identity_schemas: {}, diagnostics: [] };
}

export function getFunctions(): GetFunctions_ResponseInit {
  return { functions: {}, diagnostics: [] };
}
