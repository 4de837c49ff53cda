/** The registered grant types; `grant_types_supported` in the metadata is this list. */
import { clientCredentials } from './client-credentials';
import { tokenExchange } from './token-exchange';
import type { Grant } from './grant';

export const GRANTS: readonly Grant[] = [
  clientCredentials,
  tokenExchange,
];

export type { Grant } from './grant';
