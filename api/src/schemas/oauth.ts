/**
 * Request parameters of the OAuth endpoints (RFC 6749 / 7523 / 7662 / 7009 / 8707), sent as
 * application/x-www-form-urlencoded (or JSON). Unknown parameters are ignored, as the RFCs ask;
 * a parameter may not be repeated (except `resource`).
 */
import { z } from 'zod';
import { CLIENT_ASSERTION_TYPE } from '../services/tokens';
import { CLIENT_ASSERTION_MAX_LIFETIME_SECONDS } from '../../../model/limits';

const required = (name: string) => z.string({ error: `The ${name} parameter is required` });

export const TokenRequest = z
  .looseObject({
    grant_type: z.literal('client_credentials'),
    client_assertion_type: z.literal(CLIENT_ASSERTION_TYPE),
    client_assertion: z.string().describe(`A JWT signed with one of the agent's keys (EdDSA): iss = sub = the agent id, aud = the token endpoint or the organization's issuer, a fresh jti, exp at most ${CLIENT_ASSERTION_MAX_LIFETIME_SECONDS} seconds ahead`),
    client_id: z.string().optional().describe('The agent id (must match the assertion\'s sub)'),
    scope: z.string().optional().describe('Space-separated scopes, a subset of the agent\'s; omitted: all of them'),
    resource: z.union([z.string(), z.array(z.string())]).optional().describe('RFC 8707: the service(s) the token is for (its aud); repeatable'),
  })
  .meta({ id: 'TokenRequest' });

export const IntrospectionRequest = z
  .looseObject({ token: required('token'), token_type_hint: z.string().optional() })
  .meta({ id: 'IntrospectionRequest' });

export const RevocationRequest = z
  .looseObject({ token: required('token'), token_type_hint: z.string().optional() })
  .meta({ id: 'RevocationRequest' });
