/** Wire shapes of the control plane's agent endpoints (docs/rest-api.md). */
import type { AgentStatus } from '../../../model/agent';

export interface Agent {
  id: string;
  name: string;
  public_key: string;
  scopes: string[];
  status: AgentStatus;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
  last_auth_at: string | null;
}

/** Only the create response carries `secret`, and only for server-generated keys. */
export interface CreatedAgent extends Agent {
  secret?: string;
}

export interface AgentCreate {
  name: string;
  scopes?: string[];
  metadata?: Record<string, string>;
  public_key?: string;
}

export interface AgentPatch {
  name?: string;
  scopes?: string[];
  metadata?: Record<string, string>;
}

export interface AgentListQuery {
  status?: AgentStatus;
  name?: string;
  name_prefix?: string;
  /** Only these agents (at most 200; GET /v1/agents?id=…&id=…). */
  id?: readonly string[];
  /** As the query string spells it: only agents that never authenticated ("true"). */
  never_authenticated?: 'true' | 'false';
  /** RFC 3339 instant: agents with no authentication since then (or never). */
  inactive_since?: string;
  limit?: number;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** One key of an agent (GET/POST /v1/agents/{id}/keys). */
export interface AgentKey {
  kid: string;
  public_key: string;
  status: 'active' | 'revoked';
  created_at: string;
  revoked_at: string | null;
}

/** Only the create response carries `secret`, and only for server-generated keys. */
export interface CreatedAgentKey extends AgentKey {
  secret?: string;
}

/** POST /v1/oauth/token body (JSON form); see docs/auth.md. */
export interface TokenRequest {
  grant_type: 'client_credentials';
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
  client_assertion: string;
  scope?: string;
  resource?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}
