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
  limit?: number;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
