/**
 * The one place where wire (snake_case) names meet SDK (camelCase) names, in both directions. The
 * wire shapes are the client core's (../core/wire.ts, checked against the server's schemas).
 * Metadata maps and audit `data` are user data and are passed through untouched.
 */
import type {
  AccessToken,
  Agent,
  AgentDelegation,
  AgentCreateParams,
  AgentListParams,
  AgentUpdateParams,
  ApiKey,
  AuditEvent,
  AuditEventListParams,
  AuditCheckpoint,
  AuditVerification,
  CreatedAgent,
  CreatedAgentKey,
  CreatedApiKey,
  FederatedCredential,
  FederatedCredentialCreateParams,
  OpenedSession,
  Session,
  SessionCreateParams,
  SessionListParams,
  SessionOperationParams,
  TokenIntrospection,
} from '../types';
import type { QueryValue } from '../core/transport';
import { actorChain } from '../../../model/delegation';
import type {
  WireAgent,
  WireAgentCreate,
  WireAgentKey,
  WireAgentUpdate,
  WireApiKey,
  WireAuditCheckpoint,
  WireAuditEvent,
  WireAuditVerification,
  WireCreatedApiKey,
  WireFederatedCredential,
  WireFederatedCredentialCreate,
  WireSession,
  WireSessionCreate,
  WireSessionOperation,
  WireTokenResponse,
  WireAgentDelegation,
} from '../core/wire';

// ---- responses -----------------------------------------------------------------------------

const date = (s: string): Date => new Date(s);
const dateOrNull = (s: string | null | undefined): Date | null => (s == null ? null : new Date(s));

export function toAgent(w: WireAgent): Agent {
  return {
    id: w.id,
    name: w.name,
    publicKey: w.public_key,
    scopes: w.scopes ?? [],
    status: w.status,
    metadata: w.metadata ?? {},
    createdAt: date(w.created_at),
    updatedAt: date(w.updated_at),
    lastAuthAt: dateOrNull(w.last_auth_at),
    mayAct: w.may_act ?? [],
  };
}

export function toAgentDelegation(w: WireAgentDelegation): AgentDelegation {
  return { subjectAgentId: w.subject_agent_id, actorAgentId: w.actor_agent_id, createdAt: date(w.created_at) };
}

export function toCreatedAgent(w: WireAgent): CreatedAgent {
  const agent: CreatedAgent = toAgent(w);
  if (w.secret !== undefined) agent.secret = w.secret;
  return agent;
}

export function toAgentKey(w: WireAgentKey): CreatedAgentKey {
  const key: CreatedAgentKey = {
    kid: w.kid,
    publicKey: w.public_key,
    status: w.status,
    createdAt: date(w.created_at),
    revokedAt: dateOrNull(w.revoked_at),
  };
  if (w.secret !== undefined) key.secret = w.secret;
  return key;
}

export function toFederatedCredential(w: WireFederatedCredential): FederatedCredential {
  return {
    id: w.id,
    issuer: w.issuer,
    subject: w.subject,
    audience: w.audience,
    claims: w.claims ?? {},
    jwks: w.jwks ?? null,
    status: w.status,
    createdAt: date(w.created_at),
    revokedAt: dateOrNull(w.revoked_at),
  };
}

export function toApiKey(w: WireApiKey): ApiKey {
  return {
    id: w.id,
    name: w.name,
    role: w.role,
    prefix: w.prefix,
    createdAt: date(w.created_at),
    lastUsedAt: dateOrNull(w.last_used_at),
    revokedAt: dateOrNull(w.revoked_at),
  };
}

export function toCreatedApiKey(w: WireCreatedApiKey): CreatedApiKey {
  return { ...toApiKey(w), key: w.key ?? '' };
}

export function toAuditEvent(w: WireAuditEvent): AuditEvent {
  return {
    id: w.id,
    seq: Number(w.seq),
    action: w.action,
    actorType: w.actor_type,
    actorId: w.actor_id ?? null,
    targetType: w.target_type ?? null,
    targetId: w.target_id ?? null,
    outcome: w.outcome,
    reason: w.reason ?? null,
    requestId: w.request_id ?? null,
    clientIp: w.client_ip ?? null,
    data: w.data ?? {},
    createdAt: date(w.created_at),
    hash: w.hash,
  };
}

export function toAuditVerification(w: WireAuditVerification): AuditVerification {
  return {
    valid: w.valid,
    eventsChecked: w.events_checked,
    firstBrokenSeq: w.first_broken_seq == null ? null : Number(w.first_broken_seq),
    reason: w.reason ?? null,
    seq: w.seq ?? null,
    hash: w.hash ?? null,
    fromSeq: w.from_seq ?? 0,
  };
}

export function toAuditCheckpoint(w: WireAuditCheckpoint): AuditCheckpoint {
  return { checkpoint: w.checkpoint, orgId: w.org_id, seq: w.seq, hash: w.hash, createdAt: new Date(w.created_at) };
}

export function toAccessToken(w: WireTokenResponse, receivedAt: number = Date.now()): AccessToken {
  return {
    accessToken: w.access_token,
    tokenType: w.token_type,
    expiresIn: w.expires_in,
    expiresAt: new Date(receivedAt + w.expires_in * 1000),
    scope: w.scope ?? '',
  };
}

export function toSession(w: WireSession): Session {
  return {
    id: w.id,
    agentId: w.agent_id,
    scopes: w.scopes ?? [],
    maxOperations: w.max_operations ?? null,
    operationsUsed: w.operations_used,
    status: w.status,
    purpose: w.purpose ?? null,
    createdAt: date(w.created_at),
    expiresAt: date(w.expires_at),
    endedAt: dateOrNull(w.ended_at),
    // The server's schema types it as a string; its values are the SessionEndReason union.
    endReason: (w.end_reason ?? null) as Session['endReason'],
  };
}

export function toOpenedSession(w: WireSession): OpenedSession {
  return { ...toSession(w), accessToken: w.access_token ?? '' };
}

export function toIntrospection(w: Record<string, unknown>): TokenIntrospection {
  const out: TokenIntrospection = { active: w.active === true, raw: w };
  const str = (k: string) => (typeof w[k] === 'string' ? (w[k] as string) : undefined);
  const num = (k: string) => (typeof w[k] === 'number' ? (w[k] as number) : undefined);
  const assign = <K extends keyof TokenIntrospection>(key: K, value: TokenIntrospection[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  assign('sub', str('sub'));
  assign('scope', str('scope'));
  assign('clientId', str('client_id'));
  assign('exp', num('exp'));
  assign('iat', num('iat'));
  assign('iss', str('iss'));
  assign('jti', str('jti'));
  assign('tokenType', str('token_type'));
  assign('sid', str('sid'));
  assign('organizationId', str('org_id'));
  if (w.act !== undefined) assign('actors', actorChain(w.act) ?? undefined);
  const cnf = w.cnf as { jkt?: unknown } | undefined;
  if (typeof cnf?.jkt === 'string') out.jkt = cnf.jkt;
  const aud = w.aud;
  if (typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string'))) out.aud = aud;
  return out;
}

// ---- requests ------------------------------------------------------------------------------

/** Copies only the keys that are set, so an omitted field is never sent as null. */
function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export const federatedCredentialBody = (p: FederatedCredentialCreateParams): WireFederatedCredentialCreate =>
  defined({ issuer: p.issuer, subject: p.subject, audience: p.audience, claims: p.claims, jwks: p.jwks });

export const agentCreateBody = (p: AgentCreateParams): WireAgentCreate =>
  defined({
    name: p.name, scopes: p.scopes, metadata: p.metadata, public_key: p.publicKey, federated_credentials: p.federatedCredentials?.map(federatedCredentialBody), may_act: p.mayAct,
  });

export const agentUpdateBody = (p: AgentUpdateParams): WireAgentUpdate => defined({ name: p.name, scopes: p.scopes, metadata: p.metadata, may_act: p.mayAct });

export const agentListQuery = (p: AgentListParams): Record<string, QueryValue> => ({
  status: p.status,
  name: p.name,
  name_prefix: p.namePrefix,
  never_authenticated: p.neverAuthenticated ? true : undefined, // the API only knows `=true`
  inactive_since: p.inactiveSince,
  limit: p.limit,
  cursor: p.cursor,
});

export const auditEventListQuery = (p: AuditEventListParams): Record<string, QueryValue> => ({
  agent_id: p.agentId,
  action: p.action,
  since: p.since,
  until: p.until,
  order: p.order,
  limit: p.limit,
  cursor: p.cursor,
});

export const sessionCreateBody = (p: SessionCreateParams): WireSessionCreate =>
  defined({ scopes: p.scopes, ttl_seconds: p.ttlSeconds, max_operations: p.maxOperations, purpose: p.purpose });

export const sessionListQuery = (p: SessionListParams): Record<string, QueryValue> => ({
  agent_id: p.agentId,
  status: p.status,
  limit: p.limit,
  cursor: p.cursor,
});

export const sessionOperationBody = (p: SessionOperationParams): WireSessionOperation => defined({ scope: p.scope, description: p.description });
