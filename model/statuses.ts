/**
 * Every status a client can see, once: the API's schemas, the SDK's types, the CLI's choices, the
 * console and the provider's checks read these lists. Dependency-free (the browser SDK imports it).
 */
import { codeChoices, quotedChoices } from './words';

export const AGENT_STATUSES = ['active', 'suspended', 'revoked'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/**
 * The statuses Terraform and CDKTF may set on an agent. Revoking is permanent, so it is never a
 * desired state: destroying the resource revokes.
 */
export const MANAGED_AGENT_STATUSES = ['active', 'suspended'] as const satisfies readonly AgentStatus[];
export type ManagedAgentStatus = (typeof MANAGED_AGENT_STATUSES)[number];

/** The managed-status rule in words (Markdown), for the provider's and the constructs' documentation. */
export const MANAGED_AGENT_STATUS_RULE = `${codeChoices(MANAGED_AGENT_STATUSES)}; to revoke an agent, destroy the resource (revocation is permanent)`;

export function isManagedAgentStatus(value: unknown): value is ManagedAgentStatus {
  return typeof value === 'string' && (MANAGED_AGENT_STATUSES as readonly string[]).includes(value);
}

/** Why `status` cannot be set on a managed agent, or null when it can. */
export function managedAgentStatusViolation(status: string): string | null {
  if (isManagedAgentStatus(status)) return null;
  return `status "${status}" is not allowed: use ${quotedChoices(MANAGED_AGENT_STATUSES)}, or leave it unset to keep the control plane's value (destroy the resource to revoke)`;
}

/** An agent key is active until removed; a removed key stays listed as revoked. */
export const AGENT_KEY_STATUSES = ['active', 'revoked'] as const;
export type AgentKeyStatus = (typeof AGENT_KEY_STATUSES)[number];

/** A session as the API shows it; `expired` is an active session past its expiry. */
export const SESSION_STATUSES = ['active', 'exhausted', 'expired', 'ended'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** What a session row stores: `expired` is never written, it is read from `expires_at`. */
export const STORED_SESSION_STATUSES = ['active', 'exhausted', 'ended'] as const satisfies readonly SessionStatus[];
export type StoredSessionStatus = (typeof STORED_SESSION_STATUSES)[number];

/** An organization's token signing key: `current` signs, `retired` only verifies until its tokens expire. */
export const SIGNING_KEY_STATUSES = ['current', 'retired'] as const;
export type SigningKeyStatus = (typeof SIGNING_KEY_STATUSES)[number];

/** Why a session ended (set with its `ended_at`), with what each means where the code alone does not say. */
export const SESSION_END_REASON_MEANINGS = {
  ended_by_agent: '',
  ended_by_api_key: '',
  agent_suspended: '',
  agent_revoked: '',
  parent_token_revoked: 'the access token that opened it was revoked',
  session_token_revoked: "the session's own token was revoked",
} as const;
export type SessionEndReason = keyof typeof SESSION_END_REASON_MEANINGS;
export const SESSION_END_REASONS = Object.keys(SESSION_END_REASON_MEANINGS) as readonly SessionEndReason[];
/** The reasons in one line, for schema descriptions: `a | b (meaning) | …`. */
export const SESSION_END_REASON_RULE = SESSION_END_REASONS.map((r) => (SESSION_END_REASON_MEANINGS[r] ? `${r} (${SESSION_END_REASON_MEANINGS[r]})` : r)).join(' | ');
