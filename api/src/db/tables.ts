/** Row types mirroring the columns (snake_case, as the driver returns them). Domain types live in services. */
import type { AuditEventFields } from '../../../model/audit-event';
import type { ApiKeyRole } from '../../../model/roles';
import type { AgentStatus, StoredSessionStatus } from '../../../model/statuses';

export interface DbOrganizationRow {
  id: string;
  name: string;
  created_at: Date;
}

export type { ApiKeyRole };

export interface DbApiKeyRow {
  id: string;
  organization_id: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  key_hash: Buffer;
  /** HMAC binding key_hash to organization_id and role (crypto/api-keys.ts). */
  binding: Buffer;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface DbAgentRow {
  id: string;
  organization_id: string;
  name: string;
  scopes: string[];
  status: AgentStatus;
  metadata: Record<string, string>;
  created_at: Date;
  updated_at: Date;
  last_auth_at: Date | null;
  /** When the agent first authenticated (written once; indexed where null). */
  first_auth_at?: Date | null;
  status_changed_at: Date;
}

/** An agent row joined with its newest active public key and its `may_act` (actor ids, in id order). */
export interface DbAgentWithKeyRow extends DbAgentRow {
  public_key: Buffer | null;
  may_act: string[];
}

export interface DbAgentKeyRow {
  agent_id: string;
  kid: string;
  public_key: Buffer;
  /** HMAC over (organization, agent, kid, public key) under the master key's agent-key seal (crypto/agent-key-seal.ts). */
  seal: Buffer;
  created_at: Date;
  revoked_at: Date | null;
}

export interface DbIdempotencyRow {
  organization_id: string;
  key: string;
  scope: string;
  request_hash: string;
  /** Not written (placeholder 0): every idempotent request is a create, and a replay answers 201 like it. */
  response_status: number;
  response_body: unknown;
  created_at: Date;
}

export interface DbAuditChainHeadRow {
  organization_id: string;
  last_seq: number;
  last_hash: string;
}

/** An audit event's columns: the fields the API shows, plus its organization and the chain's previous link. */
export interface DbAuditEventRow extends AuditEventFields<Date> {
  organization_id: string;
  prev_hash: string;
}

/** A control-plane token signing key (private part encrypted at rest). */
export interface DbSigningKeyRow {
  kid: string;
  /** The organization (issuer) whose tokens the key signs. */
  organization_id: string;
  public_key: Buffer;
  private_key_enc: Buffer;
  created_at: Date;
  rotated_at: Date | null;
  expires_at: Date | null;
}

export interface DbRevokedTokenRow {
  jti: string;
  organization_id: string;
  agent_id: string;
  expires_at: Date;
  revoked_at: Date;
}

export type SessionDbStatus = StoredSessionStatus;

export interface DbSessionRow {
  id: string;
  organization_id: string;
  agent_id: string;
  scopes: string[];
  max_operations: number | null;
  operations_used: number;
  status: SessionDbStatus;
  purpose: string | null;
  created_at: Date;
  expires_at: Date;
  ended_at: Date | null;
  end_reason: string | null;
  /** The jti of the access token that opened the session (null for sessions older than the column). */
  parent_jti: string | null;
}

/** An access token a session's token was renewed with (revoking it ends the session). */
export interface DbSessionRenewalRow {
  session_id: string;
  jti: string;
  organization_id: string;
  created_at: Date;
}

/** A JWK Set as stored inline on a federated credential (public keys only). */
export interface StoredJwks {
  [member: string]: unknown;
  keys: Record<string, unknown>[];
}

export interface DbAgentFederatedCredentialRow {
  id: string;
  agent_id: string;
  organization_id: string;
  issuer: string;
  subject: string;
  audience: string;
  claims: Record<string, unknown>;
  jwks: StoredJwks | null;
  created_at: Date;
  revoked_at: Date | null;
  /** crypto/agent-key-seal.ts federatedCredentialSeal. */
  seal: Buffer;
}
