/**
 * The control plane's JSON as it is sent (snake_case), once for every client: the SDK maps these to
 * its camelCase objects (../internal/mappers.ts), the provider uses them as they are.
 *
 * These are not written from memory: test/sdk/wire-types.test.ts asserts, at compile time, that
 * each response type here equals `z.output` of the server's schema (api/src/schemas/*,
 * api/src/sessions/schemas.ts), so a change on either side that the other does not follow fails
 * `tsc`. The SDK itself imports neither api/ nor zod.
 */
import type { AuditEventFields } from '../../../model/audit-event';
import type { ApiKeyRole } from '../../../model/roles';
import type { ACCESS_TOKEN_TYPE, ActClaim } from '../../../model/delegation';
import type { AgentKeyStatus, AgentStatus, SessionStatus } from '../../../model/statuses';

// ---- responses -----------------------------------------------------------------------------

/** GET/POST/PATCH /v1/agents[/{id}]. `secret` only in a create response whose key the server made. */
export interface WireAgent {
  id: string;
  name: string;
  /** The agent's newest active key; null when it has none. */
  public_key: string | null;
  scopes: string[];
  status: AgentStatus;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
  last_auth_at: string | null;
  /** Ids of the agents that may act for this one (RFC 8693 token exchange); model/delegation.ts MAY_ACT_RULE. */
  may_act: string[];
  secret?: string | undefined;
}

/** /v1/agents/{id}/delegations/{actor_id}: one entry of an agent's `may_act`. */
export interface WireAgentDelegation {
  subject_agent_id: string;
  actor_agent_id: string;
  created_at: string;
}

/** /v1/agents/{id}/keys. `secret` only in a create response whose key the server made. */
export interface WireAgentKey {
  kid: string;
  public_key: string;
  status: AgentKeyStatus;
  created_at: string;
  revoked_at: string | null;
  secret?: string | undefined;
}

/** A JWK Set given inline (public keys only). */
export interface WireJwks {
  [member: string]: unknown;
  keys: Record<string, unknown>[];
}

/** /v1/agents/{id}/federated-credentials: a workload whose platform token authenticates the agent. */
export interface WireFederatedCredential {
  id: string;
  issuer: string;
  subject: string;
  audience: string;
  claims: Record<string, unknown>;
  jwks: WireJwks | null;
  status: AgentKeyStatus;
  created_at: string;
  revoked_at: string | null;
}

export interface WireApiKey {
  id: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** POST /v1/api-keys: `key` in this response only (absent from an idempotent replay). */
export interface WireCreatedApiKey extends WireApiKey {
  key?: string | undefined;
}

export type WireAuditEvent = AuditEventFields<string>;

export interface WireAuditVerification {
  valid: boolean;
  events_checked: number;
  first_broken_seq: number | null;
  reason: string | null;
  seq: number | null;
  hash: string | null;
  from_seq: number;
}

export interface WireAuditCheckpoint {
  checkpoint: string;
  org_id: string;
  seq: number;
  hash: string;
  created_at: string;
}

/** POST /v1/oauth/token (200). */
/** `DPoP` for a token bound to a proof key (RFC 9449), else `Bearer`. */
export type WireTokenType = 'Bearer' | 'DPoP';

export interface WireTokenResponse {
  access_token: string;
  token_type: WireTokenType;
  expires_in: number;
  scope: string;
  /** Token exchange only (RFC 8693 §2.2.1). */
  issued_token_type?: typeof ACCESS_TOKEN_TYPE | undefined;
}

/** POST /v1/oauth/introspect (RFC 7662): an inactive token carries nothing else. */
export type WireIntrospection =
  | { active: false }
  | {
      active: true;
      token_type: WireTokenType;
      iss: string;
      sub: string;
      aud: string | string[];
      client_id: string;
      scope: string;
      jti: string;
      iat: number;
      exp: number;
      org_id: string;
      sid?: string | undefined;
      /** A delegated token (RFC 8693 §4.1): who acts for `sub`. */
      act?: ActClaim | undefined;
      cnf?: { jkt: string } | undefined;
    };

/** /v1/sessions[/{id}]. `access_token` only in the create response. */
export interface WireSession {
  id: string;
  agent_id: string;
  scopes: string[];
  max_operations: number | null;
  operations_used: number;
  status: SessionStatus;
  purpose: string | null;
  created_at: string;
  expires_at: string;
  ended_at: string | null;
  /** ended_by_agent | ended_by_api_key | agent_suspended | agent_revoked | parent_token_revoked | session_token_revoked */
  end_reason: string | null;
  access_token?: string | undefined;
}

/** A cursor-paginated list (`next_cursor` null on the last page). */
export interface WirePage<T> {
  data: T[];
  next_cursor: string | null;
}

/** An unpaginated list (API keys, an agent's keys). */
export interface WireList<T> {
  data: T[];
}

// ---- requests ------------------------------------------------------------------------------

/** POST /v1/agents. */
export interface WireAgentCreate {
  name: string;
  scopes?: string[] | undefined;
  metadata?: Record<string, string> | undefined;
  public_key?: string | undefined;
  may_act?: string[] | undefined;
  /** With these and without `public_key`: an agent with no key and no secret (model/federation.ts). */
  federated_credentials?: WireFederatedCredentialCreate[] | undefined;
}

/** POST /v1/agents/{id}/federated-credentials (and each of POST /v1/agents `federated_credentials`). */
export interface WireFederatedCredentialCreate {
  issuer: string;
  subject: string;
  audience?: string | undefined;
  claims?: Record<string, unknown> | undefined;
  jwks?: WireJwks | undefined;
}

/** PATCH /v1/agents/{id}: `metadata` and `may_act` replace the whole map or list. */
export interface WireAgentUpdate {
  name?: string | undefined;
  scopes?: string[] | undefined;
  metadata?: Record<string, string> | undefined;
  may_act?: string[] | undefined;
}

/** GET /v1/agents, as the query string spells it. */
export interface WireAgentListQuery {
  status?: AgentStatus | undefined;
  name?: string | undefined;
  name_prefix?: string | undefined;
  /** Only these agents (`id=…&id=…`; model/limits.ts LIST_IDS_RULE). */
  id?: readonly string[] | undefined;
  /** Only `true` filters (agents that never authenticated). */
  never_authenticated?: 'true' | 'false' | undefined;
  /** RFC 3339 instant: agents with no authentication since then (or never). */
  inactive_since?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** POST /v1/agents/{id}/keys. */
export interface WireAgentKeyCreate {
  public_key?: string | undefined;
}

/** POST /v1/sessions. */
export interface WireSessionCreate {
  scopes: string[];
  ttl_seconds?: number | undefined;
  max_operations?: number | undefined;
  purpose?: string | undefined;
}

/** POST /v1/sessions/{id}/operations. */
export interface WireSessionOperation {
  scope: string;
  description?: string | undefined;
}

/** POST /v1/oauth/token with a private_key_jwt client assertion (RFC 7523), as JSON or a form. */
export interface WireTokenRequest {
  grant_type: 'client_credentials';
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
  client_assertion: string;
  scope?: string | undefined;
  resource?: string | undefined;
}
