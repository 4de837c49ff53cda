/**
 * A federated credential as given (POST /v1/agents `federated_credentials`, POST
 * /v1/agents/{id}/federated-credentials), checked against what only the server knows: its public
 * URL (the audience rule), the address rule for issuers whose keys it will fetch, and inline keys
 * read with node:crypto. The checks that need nothing but the value are model/federation.ts's
 * (the request schema applies them too).
 */
import { audienceViolations, claimsViolations, issuerSyntax, subjectViolations } from '../../../model/federation';
import type { ErrorDetail } from '../domain/errors';
import type { StoredJwks } from '../db/tables';
import { orgIssuer } from '../services/issuer';
import { addressAllowed, classifyHost, refusalText } from './addresses';
import { readInlineJwks } from './jwks';

export interface FederatedCredentialInput {
  issuer: string;
  subject: string;
  audience?: string | undefined;
  claims?: Record<string, unknown> | undefined;
  jwks?: StoredJwks | undefined;
}

export interface FederatedCredentialPolicy {
  /** The control plane's public URL, without a trailing slash. */
  baseUrl: string;
  /** CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS. */
  allowPrivateNetworks: boolean;
}

export interface CheckedFederatedCredential {
  issuer: string;
  subject: string;
  audience: string;
  claims: Record<string, unknown>;
  jwks: StoredJwks | null;
}

/** The credential with its defaults applied, or every violation (paths under `path`). */
export function checkFederatedCredential(
  input: FederatedCredentialInput,
  orgId: string,
  policy: FederatedCredentialPolicy,
  path: string,
): { ok: true; value: CheckedFederatedCredential } | { ok: false; details: ErrorDetail[] } {
  const details: ErrorDetail[] = [];
  const at = (field: string) => (path ? `${path}.${field}` : field);
  const syntax = issuerSyntax(input.issuer);
  for (const message of syntax.violations) details.push({ path: at('issuer'), message });
  if (syntax.url) {
    const c = classifyHost(syntax.url.hostname);
    // Keys given inline are never fetched, so such an issuer may be anywhere — but never a metadata service.
    const fetched = input.jwks === undefined;
    if (c === 'metadata' || (fetched && !addressAllowed(c, policy.allowPrivateNetworks))) {
      details.push({ path: at('issuer'), message: `issuer host is ${refusalText(c)}` });
    }
  }
  for (const message of subjectViolations(input.subject)) details.push({ path: at('subject'), message });
  const ownIssuer = orgIssuer(policy.baseUrl, orgId);
  const audience = input.audience ?? ownIssuer;
  for (const message of audienceViolations(audience, policy.baseUrl, ownIssuer)) details.push({ path: at('audience'), message });
  const claims = input.claims ?? {};
  for (const message of claimsViolations(claims)) details.push({ path: at('claims'), message });
  if (input.jwks !== undefined) {
    for (const v of readInlineJwks(input.jwks).violations) details.push({ path: at(v.path), message: v.message });
  }
  if (details.length) return { ok: false, details };
  return { ok: true, value: { issuer: input.issuer, subject: input.subject, audience, claims, jwks: input.jwks ?? null } };
}
