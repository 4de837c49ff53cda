/**
 * Agent public keys are sealed: each key row carries an HMAC, under a key derived from the master
 * key, over the organization and agent it belongs to, its kid and the public key. The token
 * endpoint uses only keys whose seal verifies. Without it, anyone who can write the database could
 * insert a public key of their own for any agent (or move an agent whose key they hold to another
 * organization) and mint that agent's tokens; without the master key they cannot seal a row.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a seal covers. */
export interface SealedAgentKey {
  readonly organization_id: string;
  readonly agent_id: string;
  readonly kid: string;
  readonly public_key: Buffer;
}

export function agentKeySeal(sealKey: Buffer, k: SealedAgentKey): Buffer {
  return createHmac('sha256', sealKey).update(`certusordo agent key v1\n${k.organization_id}\n${k.agent_id}\n${k.kid}\n`).update(k.public_key).digest();
}

export function agentKeySealMatches(sealKey: Buffer, k: SealedAgentKey, seal: Buffer | null | undefined): boolean {
  const expected = agentKeySeal(sealKey, k);
  return seal != null && seal.length === expected.length && timingSafeEqual(expected, seal);
}
