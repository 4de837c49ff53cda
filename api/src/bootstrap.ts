/**
 * First start: with an empty database, create an organization and an admin API key and hand the
 * key to the caller exactly once (OrganizationService.bootstrapIfEmpty: replicas starting together
 * bootstrap once).
 */
import type { Services } from './services';

export interface BootstrapResult {
  organizationId: string;
  apiKey: string;
}

export function bootstrapIfEmpty(services: Services, orgName = 'default'): Promise<BootstrapResult | null> {
  return services.organizations.bootstrapIfEmpty(orgName);
}
