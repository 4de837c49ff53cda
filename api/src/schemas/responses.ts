/**
 * Response bodies of the routes whose results are not an agent or a session: API keys, audit
 * events, health, and the OAuth endpoints (RFC 6749 / 7662 / 7009 / 8414 / 7517 shapes). They only
 * describe what the routes send — the OpenAPI document is generated from them and a replay test
 * holds real responses against them.
 */
import { z } from 'zod';
import { API_KEY_ROLES } from '../../../model/roles';
import { SIGNING_KEY_STATUSES } from '../../../model/statuses';
import { ACCESS_TOKEN_TYPE } from '../../../model/delegation';

const Time = z.string().describe('RFC 3339 time (UTC)');

export const ApiKeyView = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(API_KEY_ROLES),
    prefix: z.string().describe('The public part of the key, shown to tell keys apart'),
    created_at: Time,
    last_used_at: Time.nullable(),
    revoked_at: Time.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const ApiKeyCreated = ApiKeyView.extend({
  key: z.string().optional().describe('The key itself (aa_…), in this response only; absent from an idempotent replay'),
}).meta({ id: 'ApiKeyCreated' });

export const ApiKeyPage = z.object({ data: z.array(ApiKeyView) }).meta({ id: 'ApiKeyList' });

export const ApiKeyMe = z
  .object({ id: z.string(), organization_id: z.string(), organization_name: z.string(), role: z.enum(API_KEY_ROLES) })
  .meta({ id: 'ApiKeyIdentity' });

/** What any key may learn of the organization's keys: enough to name an audit event's actor, nothing to use or manage a key with. */
export const ApiKeyName = z
  .object({ id: z.string(), name: z.string(), role: z.enum(API_KEY_ROLES), revoked: z.boolean() })
  .meta({ id: 'ApiKeyName' });

export const ApiKeyNamePage = z.object({ data: z.array(ApiKeyName) }).meta({ id: 'ApiKeyNameList' });

export const AuditEventView = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    action: z.string(),
    actor_type: z.string(),
    actor_id: z.string().nullable(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    outcome: z.string(),
    reason: z.string().nullable(),
    request_id: z.string().nullable(),
    client_ip: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    created_at: Time,
    hash: z.string().describe('HMAC-SHA256 chain link (hex)'),
  })
  .meta({ id: 'AuditEvent' });

export const AuditEventPage = z.object({ data: z.array(AuditEventView), next_cursor: z.string().nullable() }).meta({ id: 'AuditEventPage' });

export const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

export const Home = z
  .object({
    service: z.literal('certusordo'),
    console: z.string().describe('The admin console (sign in with an organization API key)'),
    api_reference: z.string().describe('The browsable API reference'),
    openapi: z.string().describe('The OpenAPI document'),
    health: z.string(),
  })
  .meta({ id: 'Home', description: 'Where to go from the root: the console, the API reference, the OpenAPI document' });

export const Readiness = z
  .object({ status: z.enum(['ready', 'draining', 'unavailable']), database: z.string() })
  .meta({ id: 'Readiness', description: '503 while the replica drains for shutdown or cannot reach its database' });

/** RFC 7009: the revocation endpoint answers 200 whether or not the token was valid. */
export const RevocationResponse = z.object({}).strict().meta({ id: 'RevocationResponse' });

/** `DPoP` for a token bound to a proof key (RFC 9449), else `Bearer`. */
const AccessTokenType = z.enum(['Bearer', 'DPoP']);

export const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: AccessTokenType,
    expires_in: z.number().int(),
    scope: z.string(),
    issued_token_type: z.literal(ACCESS_TOKEN_TYPE).optional().meta({ description: 'Token exchange only (RFC 8693 §2.2.1)' }),
  })
  .meta({ id: 'TokenResponse' });

/** RFC 8693 §4.1: the current actor, with the actor before it nested inside. */
export const ActClaimSchema = z
  .object({
    sub: z.string(),
    get act(): z.ZodOptional<typeof ActClaimSchema> {
      return ActClaimSchema.optional();
    },
  })
  .meta({ id: 'ActClaim', description: 'RFC 8693 §4.1: `sub` is the current actor; a nested `act` the actor before it' });

export const Introspection = z
  .union([
    z.object({ active: z.literal(false) }).strict(),
    z.object({
      active: z.literal(true),
      token_type: AccessTokenType,
      iss: z.string(),
      sub: z.string(),
      aud: z.union([z.string(), z.array(z.string())]),
      client_id: z.string(),
      scope: z.string(),
      jti: z.string(),
      iat: z.number().int(),
      exp: z.number().int(),
      org_id: z.string(),
      sid: z.string().optional(),
      cnf: z.object({ jkt: z.string().describe('RFC 7638 thumbprint of the key every use of the token must prove (DPoP, RFC 9449)') }).optional(),
      act: ActClaimSchema.optional().meta({ description: 'A delegated token (RFC 8693): who acts for `sub`' }),
    }),
  ])
  .meta({ id: 'Introspection' });

export const AuthorizationServerMetadata = z
  .object({
    issuer: z.string(),
    authorization_endpoint: z.string(),
    token_endpoint: z.string(),
    jwks_uri: z.string(),
    introspection_endpoint: z.string(),
    revocation_endpoint: z.string(),
    grant_types_supported: z.array(z.string()),
    response_types_supported: z.array(z.string()),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    token_endpoint_auth_signing_alg_values_supported: z.array(z.string()),
    introspection_endpoint_auth_methods_supported: z.array(z.string()),
    revocation_endpoint_auth_methods_supported: z.array(z.string()),
    client_assertion_types_supported: z.array(z.string()),
    access_token_signing_alg_values_supported: z.array(z.string()),
    dpop_signing_alg_values_supported: z.array(z.string()),
    service_documentation: z.string(),
  })
  .meta({ id: 'AuthorizationServerMetadata' });

export const Jwks = z
  .object({ keys: z.array(z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), kid: z.string(), alg: z.string().optional(), use: z.string().optional() })) })
  .meta({ id: 'JWKS' });

export const SigningKeyView = z
  .object({ kid: z.string(), status: z.enum(SIGNING_KEY_STATUSES), created_at: Time, rotated_at: Time.nullable(), expires_at: Time.nullable() })
  .meta({ id: 'SigningKey' });

export const SigningKeyPage = z.object({ data: z.array(SigningKeyView) }).meta({ id: 'SigningKeyList' });

export const SigningKeyRotation = z
  .object({ kid: z.string(), previous_kid: z.string().nullable(), created_at: Time })
  .meta({ id: 'SigningKeyRotation' });
