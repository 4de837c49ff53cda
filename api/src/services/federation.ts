/**
 * Workload identity federation: an agent authenticates with its platform's token (GitHub Actions
 * OIDC, a Kubernetes service-account token, a SPIFFE JWT-SVID, a cloud workload token) under one of
 * its federated credentials, and no secret of the agent exists anywhere. RFC 7523 §2.2 with a
 * third-party-issued assertion: `client_id` names the agent, `client_assertion` is the platform
 * token, and it authenticates the agent when, for one of the agent's active credentials,
 *
 * - its signature verifies (RS256, PS256, ES256, EdDSA/Ed25519 only) with a key of the credential's
 *   issuer: the credential's inline JWKS, else the issuer's discovered keys (federation/issuer-keys.ts);
 * - `iss` equals the credential's issuer, `sub` its subject, `aud` contains its audience, and every
 *   entry of its `claims` equals the token's claim of that name (JSON equality);
 * - `exp` is present, not past, and at most 24 h after `iat` and the server's clock; `nbf`/`iat`
 *   are not in the future (both with the agent assertions' leeway).
 *
 * A platform token may be presented again until it expires (Kubernetes rewrites its token file at
 * about 80 % of the lifetime; every cloud STS accepts reuse): its jti is audited, not consumed.
 * Every failure is the one `invalid_client` answer (its reason goes to the audit log only), through
 * the same failure budgets and coalesced audit as agent assertions (oauth/token-steps.ts refuse).
 */
import type { Knex } from 'knex';
import { FEDERATED_ASSERTION_MAX_LIFETIME_SECONDS, isFederatedSigningAlg, jsonEqual } from '../../../model/federation';
import { federatedCredentialSealMatches } from '../crypto/agent-key-seal';
import { isUuid } from '../crypto/ids';
import { claimTextViolation } from '../crypto/jws';
import * as ops from '../db/operations/federated-credentials';
import type { StoredJwks } from '../db/tables';
import { DomainError, InvalidClientError, InvalidGrantError } from '../domain/errors';
import type { IssuerKeys } from '../federation/issuer-keys';
import { readFetchedJwks, VerificationKey } from '../federation/jwks';
import { decodeJwt, verifyJwt } from '../federation/jwt';
import { ASSERTION_LEEWAY_SECONDS, CLIENT_AUTH_FAILED, type ClientAuthResult } from './tokens';

/** The RFC 8414 name of the method (a JWT client assertion; its key is the workload issuer's). */
export const FEDERATED_METHOD = 'private_key_jwt';
/** Inline key sets read into KeyObjects, by credential id (a credential's keys never change). */
const MAX_INLINE_KEY_SETS = 10_000;

type Credential = ops.AgentFederationRow['credentials'][number];

export class FederationService {
  private readonly inlineKeys = new Map<string, VerificationKey[]>();

  constructor(
    private readonly db: Knex,
    private readonly issuerKeys: IssuerKeys,
    /** The master key's seal key: only credentials whose seal verifies are trusted (crypto/agent-key-seal.ts). */
    private readonly sealKey: Buffer,
  ) {}

  async authenticate(assertion: string, clientIdParam: string | undefined, nowMs = Date.now()): Promise<ClientAuthResult> {
    const claimed = clientIdParam !== undefined && isUuid(clientIdParam) ? clientIdParam.toLowerCase() : undefined;
    const fail = (reason: string, agent?: { id: string; orgId: string }, error: DomainError = new InvalidClientError(CLIENT_AUTH_FAILED, reason)): ClientAuthResult =>
      ({ ok: false, error, claimedAgentId: claimed, method: FEDERATED_METHOD, ...(agent ? { agent } : {}) });
    if (!claimed) return fail('client_id_required');
    const jwt = decodeJwt(assertion);
    // A claim outside the text rule (U+0000, a lone surrogate) is never compared, stored or audited.
    if (!jwt || claimTextViolation(jwt, 'client_assertion')) return fail('malformed_assertion');
    const { header: h, payload: p } = jwt;
    const alg = h.alg;
    if (!isFederatedSigningAlg(alg)) return fail('unsupported_alg');
    if (h.crit !== undefined) return fail('crit_header');
    if (h.kid !== undefined && typeof h.kid !== 'string') return fail('malformed_assertion');
    if (typeof p.iss !== 'string' || typeof p.sub !== 'string') return fail('missing_claims');
    const lifetime = this.lifetimeViolation(p, nowMs / 1000);
    if (lifetime) return fail(lifetime);

    const agent = await ops.getAgentFederation(this.db, claimed);
    if (!agent) return fail('unknown_agent');
    const attributed = { id: agent.id, orgId: agent.organization_id };
    // A row the control plane did not write (or one moved to another agent or organization) trusts nobody.
    const trusted = agent.credentials.filter((c) => c.issuer === p.iss && federatedCredentialSealMatches(this.sealKey,
      { ...c, organization_id: agent.organization_id, agent_id: agent.id }, c.seal === null ? null : Buffer.from(c.seal, 'hex')));
    if (trusted.length === 0) return fail('untrusted_issuer', attributed);
    const kid = h.kid as string | undefined;
    const signed: Credential[] = [];
    for (const c of trusted) {
      const keys = await this.keysOf(c, kid);
      // A key without a kid may sign any token (RFC 7517 §4.5 makes kid optional); one with a kid only its own.
      if (keys.some((k) => (kid === undefined || k.kid === undefined || k.kid === kid) && verifyJwt(jwt, alg, k))) signed.push(c);
    }
    if (signed.length === 0) return fail('bad_signature', attributed);
    const match = signed.find((c) => p.sub === c.subject && audienceContains(p.aud, c.audience) && claimsMatch(p, c.claims));
    if (!match) return fail(mismatchReason(signed, p), attributed);
    if (agent.status !== 'active') return fail(`agent_${agent.status}`, attributed, new InvalidGrantError(`The agent is ${agent.status}`, `agent_${agent.status}`));
    return {
      ok: true,
      client: {
        method: FEDERATED_METHOD, agentId: agent.id, orgId: agent.organization_id, scopes: agent.scopes, kid: kid ?? '',
        assertionJti: typeof p.jti === 'string' ? p.jti.slice(0, 256) : '', assertionExpiresAt: new Date((p.exp as number) * 1000), fromCache: false,
        federated: { credentialId: match.id, issuer: match.issuer, subject: match.subject },
      },
    };
  }

  /** Why the token's times are not acceptable, or null. */
  private lifetimeViolation(p: Record<string, unknown>, now: number): string | null {
    if (typeof p.exp !== 'number') return 'missing_claims';
    if (p.iat !== undefined && typeof p.iat !== 'number') return 'malformed_assertion';
    if (p.nbf !== undefined && typeof p.nbf !== 'number') return 'malformed_assertion';
    if (p.exp <= now - ASSERTION_LEEWAY_SECONDS) return 'assertion_expired';
    const max = FEDERATED_ASSERTION_MAX_LIFETIME_SECONDS + ASSERTION_LEEWAY_SECONDS;
    if (p.exp > now + max || (typeof p.iat === 'number' && p.exp - p.iat > max)) return 'assertion_lifetime';
    if ((typeof p.iat === 'number' && p.iat > now + ASSERTION_LEEWAY_SECONDS) || (typeof p.nbf === 'number' && p.nbf > now + ASSERTION_LEEWAY_SECONDS)) return 'assertion_not_yet_valid';
    return null;
  }

  private async keysOf(c: Credential, kid: string | undefined): Promise<VerificationKey[]> {
    if (c.jwks === null) return this.issuerKeys.keys(c.issuer, kid);
    let keys = this.inlineKeys.get(c.id);
    if (!keys) {
      keys = readFetchedJwks(c.jwks satisfies StoredJwks);
      if (this.inlineKeys.size >= MAX_INLINE_KEY_SETS) this.inlineKeys.clear();
      this.inlineKeys.set(c.id, keys);
    }
    return keys;
  }
}

function audienceContains(aud: unknown, audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.includes(audience));
}

function claimsMatch(p: Record<string, unknown>, claims: Record<string, unknown>): boolean {
  return Object.entries(claims).every(([name, value]) => Object.prototype.hasOwnProperty.call(p, name) && jsonEqual(p[name], value));
}

/** The audit reason of a validly signed token that no credential matches (never sent). */
function mismatchReason(signed: Credential[], p: Record<string, unknown>): string {
  const bySubject = signed.filter((c) => c.subject === p.sub);
  if (bySubject.length === 0) return 'wrong_subject';
  if (!bySubject.some((c) => audienceContains(p.aud, c.audience))) return 'wrong_audience';
  return 'claims_mismatch';
}
