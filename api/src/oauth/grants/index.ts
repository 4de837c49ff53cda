/** The registered grant types; `grant_types_supported` in the metadata is this list. */
import { clientCredentials } from './client-credentials';
import type { Grant } from './grant';

export const GRANTS: readonly Grant[] = [
  clientCredentials,
];

export type { Grant } from './grant';
