/** Public, camelCase shapes of the API's objects. The wire (snake_case) names live in core/wire.ts and are mapped in internal/mappers.ts. */
import type { AgentKeyStatus, AgentStatus, SessionEndReason, SessionStatus } from '../../model/statuses';
import type { ApiKeyRole } from '../../model/roles';

/** Statuses and roles are model/'s lists (model/statuses.ts, model/roles.ts), so they match the server's. */
export type { AgentKeyStatus, AgentStatus, ApiKeyRole, SessionEndReason, SessionStatus };

export interface Agent {
  id: string;
  name: string;
  /** base64url of the 32 raw Ed25519 public-key bytes of the agent's newest active key; null when it has none. */
  publicKey: string | null;
  scopes: string[];
  status: AgentStatus;
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
  /** null until the agent first authenticates. */
  lastAuthAt: Date | null;
  /** Ids of the agents that may act for this one (RFC 8693 token exchange); empty: nobody may. */
  mayAct: string[];
}

/** One entry of an agent's `mayAct`: `actorAgentId` may act for `subjectAgentId`. */
export interface AgentDelegation {
  subjectAgentId: string;
  actorAgentId: string;
  /** When the grant was made; delegated tokens issued before it are invalid. */
  createdAt: Date;
}

/** The create response: `secret` is returned once, and only when the server generated the key. */
export interface CreatedAgent extends Agent {
  secret?: string;
}

export interface AgentCreateParams {
  name: string;
  scopes?: string[];
  metadata?: Record<string, string>;
  /**
   * base64url Ed25519 public key; omit to let the server generate the key pair (and return `secret`)
   * — unless `federatedCredentials` are given: then the agent has no key and no secret at all.
   */
  publicKey?: string;
  /** Agents that may act for this one (model/delegation.ts MAY_ACT_RULE). */
  mayAct?: string[];
  /** Workloads whose platform tokens authenticate the agent (model/federation.ts rules). */
  federatedCredentials?: FederatedCredentialCreateParams[];
}

/** A workload whose platform token (a JWT of another issuer) authenticates the agent. */
export interface FederatedCredential {
  id: string;
  /** The token's `iss` (an https URL). */
  issuer: string;
  /** The token's `sub`. */
  subject: string;
  /** A value the token's `aud` must contain. */
  audience: string;
  /** Further top-level claims the token must carry with these JSON values. */
  claims: Record<string, unknown>;
  /** The issuer's public keys given inline; null: fetched by OpenID discovery. */
  jwks: { keys: Record<string, unknown>[] } | null;
  status: AgentKeyStatus;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface FederatedCredentialCreateParams {
  issuer: string;
  subject: string;
  /** Default: the organization's issuer URL. */
  audience?: string;
  claims?: Record<string, unknown>;
  jwks?: { keys: Record<string, unknown>[] };
}

export interface AgentUpdateParams {
  name?: string;
  scopes?: string[];
  /** Replaces the whole metadata map. */
  metadata?: Record<string, string>;
  /** Replaces the whole list of agents that may act for this one. */
  mayAct?: string[];
}

export interface AgentListParams {
  status?: AgentStatus;
  /** Exact name. */
  name?: string;
  namePrefix?: string;
  /** Only agents that never authenticated. */
  neverAuthenticated?: boolean;
  /** Only agents that have not authenticated since this time (as the server defines `inactive_since`). */
  inactiveSince?: Date | string;
  /** Page size: LIST_PAGE_RULE of model/limits.ts (the server's bounds and default). */
  limit?: number;
  /** Resume from a page's `nextCursor`. */
  cursor?: string;
}

export interface AgentKey {
  /** RFC 7638 JWK thumbprint of the public key. */
  kid: string;
  publicKey: string;
  status: AgentKeyStatus;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface CreatedAgentKey extends AgentKey {
  secret?: string;
}

export interface AgentKeyCreateParams {
  publicKey?: string;
}

export interface ApiKey {
  id: string;
  name: string;
  role: ApiKeyRole;
  /** The first characters of the key, to recognise it. */
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** The create response: `key` is returned once. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

export interface ApiKeyCreateParams {
  name: string;
  role: ApiKeyRole;
}

export interface AuditEvent {
  id: string;
  seq: number;
  action: string;
  actorType: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  reason: string | null;
  requestId: string | null;
  clientIp: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
  hash: string;
}

export interface AuditEventListParams {
  agentId?: string;
  action?: string;
  since?: Date | string;
  until?: Date | string;
  /** `asc` (default): oldest first, the chain's order; `desc`: newest first. */
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

export interface AuditVerification {
  valid: boolean;
  /** Events whose link this run recomputed (verification resumes from the last verified point). */
  eventsChecked: number;
  firstBrokenSeq: number | null;
  reason: string | null;
  /** The seq and hash the log is verified through (null when it is broken). */
  seq: number | null;
  hash: string | null;
  /** The verified seq this run resumed from (0: the genesis). */
  fromSeq: number;
}

export interface AuditVerifyParams {
  /** A checkpoint (compact JWS from `auditEvents.checkpoint()`) the log must still extend. */
  checkpoint?: string;
  /** Re-walk the whole chain instead of resuming from the last verified point (admin key). */
  full?: boolean;
}

/** The verified head of the audit chain, signed with the organization's token signing key. */
export interface AuditCheckpoint {
  /** Compact JWS (`typ: certusordo-audit-checkpoint+jwt`, `iss` `<organization issuer>/audit-checkpoints`), verifiable offline with the organization's JWKS. */
  checkpoint: string;
  orgId: string;
  seq: number;
  hash: string;
  createdAt: Date;
}

/** RFC 7662 introspection response. `active: false` carries nothing else. */
export interface TokenIntrospection {
  active: boolean;
  sub?: string;
  /** Space-separated scopes. */
  scope?: string;
  clientId?: string;
  exp?: number;
  iat?: number;
  iss?: string;
  aud?: string | string[];
  jti?: string;
  /** `DPoP` for a token bound to a proof key (RFC 9449), else `Bearer`. */
  tokenType?: string;
  /** Session id, for session tokens. */
  sid?: string;
  /** The DPoP key's RFC 7638 thumbprint (`cnf.jkt`), for DPoP-bound tokens. */
  jkt?: string;
  /** The token's organization (`org_id`): always the API key's own, since other organizations' tokens are inactive. */
  organizationId?: string;
  /** A delegated token's actors (RFC 8693 `act`), the first actor first and the current actor last; absent for an agent's own token. */
  actors?: string[];
  /** Every member of the response as sent (snake_case), including ones this SDK does not know. */
  raw: Record<string, unknown>;
}

export interface AccessToken {
  accessToken: string;
  tokenType: string;
  /** Seconds the token was valid for when issued. */
  expiresIn: number;
  /** Absolute expiry computed on receipt. */
  expiresAt: Date;
  scope: string;
}

export interface SessionCreateParams {
  scopes: string[];
  ttlSeconds?: number;
  maxOperations?: number;
  purpose?: string;
}

/** A bounded session: a subset of the agent's scopes, for a limited time and operation budget. */
export interface Session {
  id: string;
  agentId: string;
  scopes: string[];
  /** null: no operation budget. */
  maxOperations: number | null;
  operationsUsed: number;
  status: SessionStatus;
  purpose: string | null;
  createdAt: Date;
  expiresAt: Date;
  /** When the session was ended (by the agent, an API key, or the agent's suspension/revocation); null otherwise. */
  endedAt: Date | null;
  endReason: SessionEndReason | null;
}

/** What `AgentCredentials.openSession` and `renewSessionToken` return: the session and, only here, a token of its own. */
export interface OpenedSession extends Session {
  /** Bound to the session (the `sid` claim), its scopes; expires with the session or with the access token it was minted from, whichever comes first. */
  accessToken: string;
}

export interface SessionListParams {
  agentId?: string;
  status?: SessionStatus;
  /** Page size: LIST_PAGE_RULE of model/limits.ts (the server's bounds and default). */
  limit?: number;
  /** Resume from a page's `nextCursor`. */
  cursor?: string;
}

export interface SessionOperationParams {
  /** The scope the operation needs; must be covered by the session's scopes. */
  scope: string;
  /** What was done; recorded in the audit log. */
  description?: string;
}
