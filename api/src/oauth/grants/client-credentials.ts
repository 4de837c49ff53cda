/** OAuth 2.0 client credentials (RFC 6749 §4.4): the agent authenticates and gets a token for itself. */
import { z } from 'zod';
import { CLIENT_ASSERTION_TYPE } from '../../services/tokens';
import { CLIENT_ASSERTION_MAX_LIFETIME_SECONDS, TOKEN_SCOPE_PARAM_MAX, TOKEN_SCOPE_PARAM_RULE } from '../../../../model/limits';
import { FEDERATED_ALGS_RULE } from '../../../../model/federation';
import { authenticateClient, claimAssertion, issueToken, validateScope } from '../token-steps';
import { dpopProof } from '../proofs/dpop';
import type { Grant } from './grant';

export const clientCredentials: Grant = {
  grantType: 'client_credentials',
  parameters: z
    .looseObject({
      grant_type: z.literal('client_credentials'),
      client_assertion_type: z.literal(CLIENT_ASSERTION_TYPE),
      client_assertion: z.string().describe(`A JWT signed with one of the agent's keys (EdDSA): iss = sub = the agent id, aud = the token endpoint or the organization's issuer, a fresh jti, exp at most ${CLIENT_ASSERTION_MAX_LIFETIME_SECONDS} seconds ahead; or, for an agent with federated credentials, its workload's platform token (${FEDERATED_ALGS_RULE})`),
      client_id: z.string().optional().describe('The agent id (must match the assertion\'s sub; required with a platform token)'),
      scope: z.string().max(TOKEN_SCOPE_PARAM_MAX).optional().describe('Space-separated scopes, a subset of the agent\'s; omitted: all of them' + `; ${TOKEN_SCOPE_PARAM_RULE}`),
      resource: z.union([z.string(), z.array(z.string())]).optional().describe('RFC 8707: the service(s) the token is for (its aud); repeatable'),
    })
    .meta({ id: 'ClientCredentialsTokenRequest' }),
  steps: (deps) => [authenticateClient(deps), validateScope(deps.tokens), dpopProof(deps), claimAssertion(deps), issueToken(deps)],
};
