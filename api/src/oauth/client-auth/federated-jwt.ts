/**
 * A workload's platform token as the client assertion (RFC 7523 §2.2 with a third-party-issued
 * JWT, as Entra's federated credentials and the SPIFFE client-authentication draft use it):
 * `client_id` = the agent id, `client_assertion` = the token of GitHub Actions, Kubernetes, SPIRE or
 * a cloud. Recognised by its `iss`, an https URL (an agent's own assertion has the agent id there),
 * so it is asked before private_key_jwt. The rules live in services/federation.ts.
 */
import { InvalidClientError } from '../../domain/errors';
import { FEDERATED_SIGNING_ALGS } from '../../../../model/federation';
import { FEDERATED_METHOD } from '../../services/federation';
import { CLIENT_ASSERTION_TYPE, CLIENT_AUTH_FAILED } from '../../services/tokens';
import { peekIssuer } from '../../federation/jwt';
import type { ClientAuthMethod } from './method';

export const federatedJwt: ClientAuthMethod = {
  name: FEDERATED_METHOD,
  assertionType: CLIENT_ASSERTION_TYPE,
  signingAlgs: FEDERATED_SIGNING_ALGS,
  recognizes: (params) => {
    if (params.assertionType !== CLIENT_ASSERTION_TYPE) return false;
    const iss = peekIssuer(params.assertion);
    return typeof iss === 'string' && iss.startsWith('https://');
  },
  authenticate: async (params, { federation }) =>
    federation
      ? federation.authenticate(params.assertion, params.clientId)
      : { ok: false, error: new InvalidClientError(CLIENT_AUTH_FAILED, 'federation_unavailable'), method: FEDERATED_METHOD },
};
