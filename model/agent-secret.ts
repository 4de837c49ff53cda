/**
 * The agent secret, one rule for the control plane that issues it and the SDK and provider that
 * read it: `cos_<agent id>_<base64url of the 32-byte Ed25519 seed>`. It names its agent, so a
 * client can authenticate from the secret alone. The server writes the id in lowercase; readers
 * accept any case (and surrounding whitespace) and answer the id in lowercase.
 */

export const AGENT_SECRET_PREFIX = 'cos_';

/** The format in words, for error messages and diagnostics (never echo the secret itself). */
export const AGENT_SECRET_RULE = 'cos_<agent id>_<43 base64url characters>';

const AGENT_SECRET = /^cos_([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})_([A-Za-z0-9_-]{43})$/;

/** Builds a secret from the agent id and the seed's base64url text (43 characters). */
export function joinAgentSecret(agentId: string, seedBase64url: string): string {
  return `${AGENT_SECRET_PREFIX}${agentId}_${seedBase64url}`;
}

/** The agent id (lowercase) and the seed's base64url text, or null when `secret` is not one. */
export function splitAgentSecret(secret: string): { agentId: string; seedBase64url: string } | null {
  const m = AGENT_SECRET.exec(secret.trim());
  return m ? { agentId: m[1]!.toLowerCase(), seedBase64url: m[2]! } : null;
}
