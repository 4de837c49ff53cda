/** The console's REST client: same-origin calls with the API key from sessionStorage (Bearer). */
import { LIST_PAGE_DEFAULT } from '../../model/limits';
import type { ApiKeyRole } from '../../model/roles';
import type { AgentKeyStatus, AgentStatus, SessionStatus } from '../../model/statuses';

/** Roles and statuses are model/'s lists, the ones the server enforces. */
export type Role = ApiKeyRole;
export type { AgentStatus };
export { roleAtLeast as can } from '../../model/roles';

export interface Me { id: string; organization_id: string; organization_name: string; role: Role }
/** What any key may learn of another key: enough to name an audit event's actor. */
export interface ApiKeyName { id: string; name: string; role: Role; revoked: boolean }
export interface Agent {
  id: string; name: string; public_key: string | null; scopes: string[]; status: AgentStatus;
  metadata: Record<string, string>; created_at: string; updated_at: string; last_auth_at: string | null;
  /** The agents that may act for this one (RFC 8693 token exchange). */
  may_act: string[]; secret?: string;
}
/** A workload whose platform token authenticates the agent instead of a key (workload identity federation). */
export interface FederatedCredential {
  id: string; issuer: string; subject: string; audience: string; claims: Record<string, unknown>;
  jwks: { keys: Record<string, unknown>[] } | null; status: AgentKeyStatus; created_at: string; revoked_at: string | null;
}
/** What POST /v1/agents and POST /v1/agents/{id}/federated-credentials take (the server applies the defaults). */
export interface FederatedCredentialInput {
  issuer: string; subject: string; audience?: string; claims?: Record<string, unknown>; jwks?: { keys: Record<string, unknown>[] };
}
export interface AgentCreate {
  name: string; scopes: string[]; metadata: Record<string, string>; public_key?: string; federated_credentials?: FederatedCredentialInput[];
}
export interface AgentKey { kid: string; public_key: string; status: AgentKeyStatus; created_at: string; revoked_at: string | null; secret?: string }
export interface Session {
  id: string; agent_id: string; scopes: string[]; max_operations: number | null; operations_used: number;
  status: SessionStatus; purpose: string | null; created_at: string; expires_at: string;
  ended_at: string | null; end_reason: string | null;
}
export interface AuditEvent {
  id: string; seq: number; action: string; actor_type: string; actor_id: string | null; target_type: string | null;
  target_id: string | null; outcome: string; reason: string | null; request_id: string | null; client_ip: string | null;
  data: unknown; created_at: string; hash: string;
}
export interface Verification { valid: boolean; events_checked: number; first_broken_seq: number | null; reason: string | null; seq: number | null; hash: string | null; from_seq: number }
export interface Page<T> { data: T[]; next_cursor: string | null }

const KEY = 'certusordo.console.apiKey';

export const storedKey = (): string | null => sessionStorage.getItem(KEY);
export const storeKey = (key: string): void => sessionStorage.setItem(KEY, key);
export const clearKey = (): void => sessionStorage.removeItem(KEY);

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
  /** What the operator reads: the status, the server's code and message. */
  describe(): string {
    if (this.status === 403) return `Forbidden (403): ${this.message}`;
    if (this.status === 401) return `Not signed in (401): ${this.message}`;
    return this.status ? `${this.message} (${this.status} ${this.code})` : this.message;
  }
}

export function describeError(e: unknown): string {
  return e instanceof ApiError ? e.describe() : e instanceof Error ? e.message : String(e);
}

/** Listeners told when the server rejects the key (401): the app signs out. */
const unauthorized = new Set<() => void>();
export const onUnauthorized = (f: () => void): (() => void) => {
  unauthorized.add(f);
  return () => void unauthorized.delete(f);
};

export async function call<T>(method: string, path: string, body?: unknown, key: string | null = storedKey()): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'network', 'The control plane cannot be reached');
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; details?: { path: string; message: string }[] } } | undefined)?.error;
    const details = err?.details?.length ? `: ${err.details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}` : '';
    const e = new ApiError(res.status, err?.code ?? 'error', `${err?.message ?? res.statusText}${details}`);
    if (res.status === 401 && key === storedKey()) unauthorized.forEach((f) => f());
    throw e;
  }
  return json as T;
}

export function query(params: Record<string, string | number | boolean | readonly string[] | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const item of v) q.append(k, item); // repeated: ?id=a&id=b
    else if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;
export const api = {
  me: (key?: string) => call<Me>('GET', '/v1/api-keys/me', undefined, key ?? storedKey()),
  agents: (q: Record<string, string | number | boolean | readonly string[] | undefined>) => call<Page<Agent>>('GET', `/v1/agents${query(q)}`),
  apiKeyNames: (ids: readonly string[]) => call<{ data: ApiKeyName[] }>('GET', `/v1/api-keys/names${query({ id: ids })}`),
  agent: (id: string) => call<Agent>('GET', `/v1/agents/${enc(id)}`),
  createAgent: (body: AgentCreate) => call<Agent>('POST', '/v1/agents', body),
  updateAgent: (id: string, body: { scopes?: string[]; metadata?: Record<string, string> }) => call<Agent>('PATCH', `/v1/agents/${enc(id)}`, body),
  transition: (id: string, action: 'suspend' | 'activate' | 'revoke', reason?: string) =>
    call<Agent>('POST', `/v1/agents/${enc(id)}/${action}`, reason ? { reason } : {}),
  keys: (id: string) => call<{ data: AgentKey[] }>('GET', `/v1/agents/${enc(id)}/keys`),
  addKey: (id: string, publicKey?: string) => call<AgentKey>('POST', `/v1/agents/${enc(id)}/keys`, publicKey ? { public_key: publicKey } : {}),
  removeKey: (id: string, kid: string) => call<AgentKey>('DELETE', `/v1/agents/${enc(id)}/keys/${enc(kid)}`),
  federatedCredentials: (id: string) => call<{ data: FederatedCredential[] }>('GET', `/v1/agents/${enc(id)}/federated-credentials`),
  addFederatedCredential: (id: string, body: FederatedCredentialInput) => call<FederatedCredential>('POST', `/v1/agents/${enc(id)}/federated-credentials`, body),
  removeFederatedCredential: (id: string, credentialId: string) =>
    call<FederatedCredential>('DELETE', `/v1/agents/${enc(id)}/federated-credentials/${enc(credentialId)}`),
  sessions: (agentId: string) => call<Page<Session>>('GET', `/v1/sessions${query({ agent_id: agentId, limit: LIST_PAGE_DEFAULT })}`),
  endSession: (id: string) => call<Session>('DELETE', `/v1/sessions/${enc(id)}`),
  audit: (q: Record<string, string | number | undefined>) => call<Page<AuditEvent>>('GET', `/v1/audit-events${query(q)}`),
  verify: () => call<Verification>('GET', '/v1/audit-events/verify'),
};

