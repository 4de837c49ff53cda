/**
 * API-key roles: one ordered list, so the server's authorization, the console's buttons, the CLI's
 * choices and the SDK's types cannot rank them differently. Each role can do everything the roles
 * before it can. Dependency-free (the browser SDK and console import it).
 */

/**
 * Ordered lowest to highest: each role includes the rights of those before it. `introspector` is
 * for resource servers (the MCP and HTTP kits' `introspection` option): it can ask whether a token
 * is still active and read nothing of the organization.
 */
export const API_KEY_ROLES = ['introspector', 'reader', 'operator', 'admin'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** What each role may do, in words (API schema descriptions, CLI help, console). */
export const API_KEY_ROLE_RIGHTS: Readonly<Record<ApiKeyRole, string>> = {
  introspector: 'token introspection only',
  reader: 'read only',
  operator: 'read + suspend agents, record session operations, end sessions, revoke tokens',
  admin: 'everything',
};

/**
 * The role each agent status change needs. Suspension is the incident button: every operator has
 * it. Undoing a suspension (an admin may have suspended the agent as compromised) and permanent
 * revocation are admin decisions, so a relying service's operator key cannot make them.
 */
export const AGENT_TRANSITION_ROLES = { suspend: 'operator', activate: 'admin', revoke: 'admin' } as const satisfies Readonly<Record<string, ApiKeyRole>>;
export type AgentTransition = keyof typeof AGENT_TRANSITION_ROLES;

/** The roles and their rights in one sentence, highest first: `admin: everything; operator: …; introspector: token introspection only`. */
export const API_KEY_ROLE_RULE = [...API_KEY_ROLES]
  .reverse()
  .map((r) => `${r}: ${API_KEY_ROLE_RIGHTS[r]}`)
  .join('; ');

export function isApiKeyRole(value: unknown): value is ApiKeyRole {
  return typeof value === 'string' && (API_KEY_ROLES as readonly string[]).includes(value);
}

/** True when `role` grants at least what `min` grants. */
export function roleAtLeast(role: ApiKeyRole, min: ApiKeyRole): boolean {
  return API_KEY_ROLES.indexOf(role) >= API_KEY_ROLES.indexOf(min);
}

/** The refusal text of a call the key's role does not reach. */
export function roleRefusal(needed: ApiKeyRole, has: ApiKeyRole): string {
  return `This call needs the ${needed} role; the key has ${has}`;
}
