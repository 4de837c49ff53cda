/**
 * Client assertions for load tests of the token endpoint (RFC 7523, EdDSA), signed with
 * node:crypto. Each one has a fresh jti, since the server accepts a jti only once.
 */
import { createPrivateKey, randomUUID, sign, KeyObject } from 'node:crypto';

export interface AssertionSpec {
  /** The token endpoint URL (the assertion's audience). */
  aud: string;
  /** Agents to sign for, round-robin: id and base64url Ed25519 seed. */
  agents: { id: string; seed: string }[];
  /** Further form parameters appended to each body (already encoded), e.g. `&resource=…`. */
  extraForm?: string;
  /** Send `client_id` (some servers require it beside the assertion). */
  clientId?: boolean;
}

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ASSERTION_TYPE = encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');

function assertionForm(spec: AssertionSpec, agent: { id: string; key: KeyObject }): string {
  const aud = spec.aud;
  const now = Math.floor(Date.now() / 1000);
  const h = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(JSON.stringify({ iss: agent.id, sub: agent.id, aud, jti: randomUUID(), iat: now, exp: now + 60 })).toString('base64url');
  const jwt = `${h}.${p}.${sign(null, Buffer.from(`${h}.${p}`), agent.key).toString('base64url')}`;
  const clientId = spec.clientId ? `&client_id=${encodeURIComponent(agent.id)}` : '';
  return `grant_type=client_credentials&client_assertion_type=${ASSERTION_TYPE}&client_assertion=${jwt}${clientId}${spec.extraForm ?? ''}`;
}

/** Pre-signs up to `size` form bodies (capped at 60,000); past them, signs on demand. */
export function assertionPool(spec: AssertionSpec, size: number): () => string {
  const signers = spec.agents.map((a) => ({
    id: a.id,
    key: createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(a.seed, 'base64url')]), format: 'der', type: 'pkcs8' }),
  }));
  let n = 0;
  const pool = Array.from({ length: Math.min(60_000, size) }, () => assertionForm(spec, signers[n++ % signers.length]!));
  return () => pool.pop() ?? assertionForm(spec, signers[n++ % signers.length]!);
}
