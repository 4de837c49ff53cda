/**
 * An agent's credentials are sealed: each key row and each federated credential row carries an
 * HMAC, under a key derived from the master key, over the organization and agent it belongs to and
 * everything that decides whom it authenticates (a key's kid and public key; a federated
 * credential's issuer, subject, audience, claims and inline keys). The token endpoint uses only
 * rows whose seal verifies. Without it, anyone who can write the database could insert a key of
 * their own, or trust a workload of an issuer they run, for any agent (or move an agent whose
 * credential they hold to another organization) and mint that agent's tokens; without the master
 * key they cannot seal a row.
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

/** What a federated credential's seal covers. */
export interface SealedFederatedCredential {
  readonly id: string;
  readonly organization_id: string;
  readonly agent_id: string;
  readonly issuer: string;
  readonly subject: string;
  readonly audience: string;
  readonly claims: unknown;
  readonly jwks: unknown;
}

/**
 * JSON with object members in code-point order at every level: the same bytes for a value written
 * to a jsonb column and read back (jsonb keeps its own member order).
 */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export function federatedCredentialSeal(sealKey: Buffer, c: SealedFederatedCredential): Buffer {
  return createHmac('sha256', sealKey)
    .update(['certusordo federated credential v1', c.id, c.organization_id, c.agent_id, c.issuer, c.subject, c.audience, canonicalJson(c.claims), canonicalJson(c.jwks)].map((x) => JSON.stringify(x)).join('\n'))
    .digest();
}

export function federatedCredentialSealMatches(sealKey: Buffer, c: SealedFederatedCredential, seal: Buffer | null | undefined): boolean {
  const expected = federatedCredentialSeal(sealKey, c);
  return seal != null && seal.length === expected.length && timingSafeEqual(expected, seal);
}
