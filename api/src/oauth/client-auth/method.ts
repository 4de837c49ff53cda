/**
 * A way for a client to authenticate at the token endpoint. Each method is a module beside its
 * siblings, registered in client-auth/index.ts; the token endpoint asks each in turn whether it
 * recognises the request and lets the first that does authenticate it.
 */
import type { ClientAuthResult } from '../../services/tokens';
import type { TokenEndpointDeps } from '../token-steps';

/** The client-authentication parameters of a token request (RFC 7521 §4.2). */
export interface ClientAuthParams {
  assertionType: string;
  assertion: string;
  clientId: string | undefined;
}

export interface ClientAuthMethod {
  /** Its name in `token_endpoint_auth_methods_supported` (RFC 8414). */
  readonly name: string;
  /** The `client_assertion_type` it takes. */
  readonly assertionType: string;
  /** The JWS algorithms its assertions may use (`token_endpoint_auth_signing_alg_values_supported`); omitted: EdDSA/Ed25519. */
  readonly signingAlgs?: readonly string[];
  /** Whether the request is meant for this method (decided from its parameters alone, cheaply). */
  recognizes(params: ClientAuthParams): boolean;
  /** Verifies the credential; every failure is a result, never a throw. */
  authenticate(params: ClientAuthParams, deps: TokenEndpointDeps): Promise<ClientAuthResult>;
}
