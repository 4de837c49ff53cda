/**
 * Every organization is its own OAuth issuer, `<public url>/orgs/<org id>`, with its own signing
 * keys: a relying service that checks `iss` (and verifies with that issuer's JWKS) accepts only its
 * organization's tokens, with no claim-specific code. The well-known documents follow RFC 8414
 * §3.1 (the well-known segment inserted before the issuer's path).
 */
import { isUuid } from '../crypto/ids';

const ORGS_SEGMENT = '/orgs/';

/** The organization's issuer identifier. `base` is the public URL without a trailing slash. */
export function orgIssuer(base: string, orgId: string): string {
  return `${base}${ORGS_SEGMENT}${orgId}`;
}

/**
 * The issuer of the organization's audit checkpoints: `<organization issuer>/audit-checkpoints`.
 * Checkpoints are signed with the organization's token signing key, so a relying service that
 * verifies access tokens with the organization's JWKS and checks `iss` would accept a checkpoint
 * (which never expires) as a token if both had one issuer; under this one it refuses it.
 */
export function checkpointIssuer(organizationIssuer: string): string {
  return `${organizationIssuer}/audit-checkpoints`;
}

/** The organization id of an issuer of this server, or null when `iss` is not one. */
export function orgIdFromIssuer(base: string, iss: string): string | null {
  const prefix = `${base}${ORGS_SEGMENT}`;
  if (typeof iss !== 'string' || !iss.startsWith(prefix)) return null;
  const id = iss.slice(prefix.length);
  return isUuid(id) && orgIssuer(base, id) === iss ? id : null;
}

/** RFC 8414 §3.1: `${base}/.well-known/oauth-authorization-server/orgs/${orgId}`. */
export function orgMetadataUrl(base: string, orgId: string): string {
  return `${base}/.well-known/oauth-authorization-server${ORGS_SEGMENT}${orgId}`;
}

/** The organization's JWKS: `${base}/orgs/${orgId}/.well-known/jwks.json`. */
export function orgJwksUrl(base: string, orgId: string): string {
  return `${orgIssuer(base, orgId)}/.well-known/jwks.json`;
}
