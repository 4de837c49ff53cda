/**
 * Federated credentials (workload identity federation): the rules an agent's trust in an external
 * token issuer follows — the limits, the checks that need nothing but the value, and the rules in
 * words that the API's errors and schema descriptions, the SDKs, the provider and the console
 * quote. A federated credential names the one workload whose platform token (GitHub Actions OIDC,
 * a Kubernetes service-account token, a SPIFFE JWT-SVID, a cloud workload token) authenticates
 * the agent instead of a key. Dependency-free and browser-safe, like the rest of model/; the checks
 * that need the network or node:crypto (addresses, JWK parsing) live in api/src/federation.
 */
import { printableText, textViolations } from './text';

/** Most federated credentials one agent may hold (active ones). */
export const FEDERATED_CREDENTIALS_MAX = 20;
export const FEDERATED_ISSUER_MAX = 512;
export const FEDERATED_SUBJECT_MAX = 512;
export const FEDERATED_AUDIENCE_MAX = 512;
/** `claims`: at most this many entries, each value at most FEDERATED_CLAIM_VALUE_MAX characters of JSON. */
export const FEDERATED_CLAIMS_MAX = 20;
export const FEDERATED_CLAIM_NAME_MAX = 64;
export const FEDERATED_CLAIM_VALUE_MAX = 1024;
/** An inline `jwks`: at most this many keys. */
export const FEDERATED_JWKS_KEYS_MAX = 10;
/** A platform token's `exp` may be at most this far after its `iat` and after the server's clock. */
export const FEDERATED_ASSERTION_MAX_LIFETIME_SECONDS = 24 * 3600;

/**
 * The signature algorithms a platform token may use: what GitHub, Kubernetes, SPIRE and the clouds
 * sign with. Never `none`, never HMAC (a shared secret is exactly what federation removes, and an
 * HMAC keyed with a public key is a forgery anyone can make).
 */
export const FEDERATED_SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;
export type FederatedSigningAlg = (typeof FEDERATED_SIGNING_ALGS)[number];

/** Registered claims a credential's `claims` map may not name: the credential's own fields and the token's lifetime decide them. */
export const FEDERATED_RESERVED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'] as const;

/** JWK members that only a private or symmetric key has. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export const FEDERATED_ISSUER_RULE =
  `an \`https\` URL of at most ${FEDERATED_ISSUER_MAX} characters, without user info, query or fragment, equal to the platform token's \`iss\`; ` +
  'when `jwks` is omitted the issuer\'s keys are fetched from `<issuer>/.well-known/openid-configuration`, so it must not be a loopback, private or link-local address ' +
  '(unless the server runs with `CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS=1`) and never a cloud metadata address';
export const FEDERATED_SUBJECT_RULE = `1-${FEDERATED_SUBJECT_MAX} characters, equal to the platform token's \`sub\``;
export const FEDERATED_AUDIENCE_RULE =
  'a value the platform token\'s `aud` must contain; default: the organization\'s issuer URL (`<public url>/orgs/<organization id>`). ' +
  'A custom audience must be the control plane\'s public URL or start with it followed by `/`, and may not name another organization\'s issuer';
export const FEDERATED_CLAIMS_RULE =
  `further top-level claims the platform token must carry with exactly these JSON values; at most ${FEDERATED_CLAIMS_MAX}, ` +
  `names of 1-${FEDERATED_CLAIM_NAME_MAX} characters other than ${FEDERATED_RESERVED_CLAIMS.join(', ')}, values of at most ${FEDERATED_CLAIM_VALUE_MAX} characters of JSON`;
export const FEDERATED_JWKS_RULE =
  `the issuer's public keys inline (a JWK Set of at most ${FEDERATED_JWKS_KEYS_MAX} keys: RSA of at least 2048 bits, EC P-256 or OKP Ed25519, public members only); ` +
  'for an issuer the control plane cannot reach. Omitted: fetched by OpenID discovery';
export const FEDERATED_ALGS_RULE = `the platform token is signed with ${FEDERATED_SIGNING_ALGS.join(', ')}, its \`exp\` at most ${FEDERATED_ASSERTION_MAX_LIFETIME_SECONDS / 3600} hours ahead`;
export const FEDERATED_CREDENTIALS_RULE = `at most ${FEDERATED_CREDENTIALS_MAX} active federated credentials per agent`;

export function isFederatedSigningAlg(alg: unknown): alg is FederatedSigningAlg {
  return typeof alg === 'string' && (FEDERATED_SIGNING_ALGS as readonly string[]).includes(alg);
}

/** The issuer as a URL when its syntax is acceptable (https, no user info, query or fragment); else the violations. */
export function issuerSyntax(issuer: string): { url: URL; violations: [] } | { url: null; violations: string[] } {
  const out: string[] = [];
  if (issuer.length < 1 || issuer.length > FEDERATED_ISSUER_MAX) out.push(`issuer must be 1-${FEDERATED_ISSUER_MAX} characters`);
  out.push(...textViolations(issuer, 'issuer'));
  let url: URL | null = null;
  try {
    url = new URL(issuer);
  } catch {
    out.push('issuer must be an absolute URL');
  }
  if (url) {
    if (url.protocol !== 'https:') out.push('issuer must be an https URL');
    if (url.username !== '' || url.password !== '') out.push('issuer must not contain user info');
    // The raw string: an empty `?` or `#` parses to an empty search/hash but is still not the issuer's form.
    if (issuer.includes('?')) out.push('issuer must not contain a query');
    if (issuer.includes('#')) out.push('issuer must not contain a fragment');
    if (url.hostname === '') out.push('issuer must name a host');
  }
  return out.length === 0 && url ? { url, violations: [] } : { url: null, violations: out };
}

export function subjectViolations(subject: string): string[] {
  const out: string[] = [];
  if (subject.length < 1 || subject.length > FEDERATED_SUBJECT_MAX) out.push(`subject must be 1-${FEDERATED_SUBJECT_MAX} characters`);
  out.push(...textViolations(subject, 'subject'));
  return out;
}

/**
 * A custom audience: the control plane's public URL `base` (no trailing slash) or below it, and not
 * another organization's issuer (`orgsPrefix` = `<base>/orgs/`, `ownIssuer` = this organization's):
 * a token minted for another relying party (an AWS or GCP STS audience) can then never be used here,
 * and one organization cannot claim the workloads that trust another's issuer.
 */
export function audienceViolations(audience: string, base: string, ownIssuer: string): string[] {
  const out: string[] = [];
  if (audience.length < 1 || audience.length > FEDERATED_AUDIENCE_MAX) out.push(`audience must be 1-${FEDERATED_AUDIENCE_MAX} characters`);
  out.push(...textViolations(audience, 'audience'));
  // Prefix at a path boundary: `https://cp.example.com.evil.example` does not start with `https://cp.example.com/`.
  if (audience !== base && !audience.startsWith(`${base}/`)) out.push(`audience must be ${base} or start with ${base}/`);
  else {
    const orgs = `${base}/orgs/`;
    if (audience.startsWith(orgs) && audience !== ownIssuer && !audience.startsWith(`${ownIssuer}/`)) out.push('audience must not name another organization\'s issuer');
  }
  return out;
}

export function claimsViolations(claims: Record<string, unknown>): string[] {
  const out: string[] = [];
  const names = Object.keys(claims);
  if (names.length > FEDERATED_CLAIMS_MAX) out.push(`claims may have at most ${FEDERATED_CLAIMS_MAX} entries`);
  for (const name of names) {
    const shown = printableText(name.slice(0, 80));
    if (name.length < 1 || name.length > FEDERATED_CLAIM_NAME_MAX) out.push(`claim name "${shown}" must be 1-${FEDERATED_CLAIM_NAME_MAX} characters`);
    if ((FEDERATED_RESERVED_CLAIMS as readonly string[]).includes(name)) out.push(`claim "${name}" is decided by the credential's own fields; it cannot be in claims`);
    out.push(...textViolations(name, `claim name "${shown}"`));
    const json = JSON.stringify(claims[name]);
    if (json === undefined) out.push(`claim "${shown}" must have a JSON value`);
    else if (json.length > FEDERATED_CLAIM_VALUE_MAX) out.push(`claim "${shown}" must be at most ${FEDERATED_CLAIM_VALUE_MAX} characters of JSON`);
  }
  return out;
}

/** Members of a JWK that only a private or symmetric key has (a JWKS given inline must hold public keys only). */
export function privateJwkMembers(jwk: Record<string, unknown>): string[] {
  return PRIVATE_JWK_MEMBERS.filter((m) => m in jwk);
}

/** Equality of JSON values (object member order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** JSON text with object keys sorted and no whitespace: what Terraform's `jsonencode` writes, so the provider and the constructs render a value as users write it. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
