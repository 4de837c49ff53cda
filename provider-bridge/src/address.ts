/** The provider's registry address: its source in `required_providers` and its mirror path. */
export const PROVIDER_ADDRESS = 'registry.terraform.io/certusordo/certusordo';
