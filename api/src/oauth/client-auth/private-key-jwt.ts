/**
 * private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9): a JWT the agent signs with one of its
 * own Ed25519 keys, `iss` = `sub` = the agent id. The rules live in TokenService.authenticateClient.
 */
import { CLIENT_ASSERTION_TYPE } from '../../services/tokens';
import type { ClientAuthMethod } from './method';

export const privateKeyJwt: ClientAuthMethod = {
  name: 'private_key_jwt',
  assertionType: CLIENT_ASSERTION_TYPE,
  recognizes: (params) => params.assertionType === CLIENT_ASSERTION_TYPE,
  authenticate: (params, { tokens }) => tokens.authenticateClient(params.assertion, params.clientId),
};
