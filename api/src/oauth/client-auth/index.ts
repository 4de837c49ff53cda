/**
 * The registered client-authentication methods, in the order they are asked whether a request is
 * theirs (a more specific method before a more general one of the same assertion type). Their
 * names are what the metadata advertises.
 */
import type { ClientAuthMethod } from './method';
import { federatedJwt } from './federated-jwt';
import { privateKeyJwt } from './private-key-jwt';

export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = [
  federatedJwt,
  privateKeyJwt,
];

export type { ClientAuthMethod, ClientAuthParams } from './method';
