/**
 * Domain errors: what went wrong, as a stable machine `code`, a message for the caller, details
 * and, for the audit log and the server log only, a `reason`. They carry no HTTP status and no
 * protocol error name: services and operations throw them, and each edge maps the code once, in
 * its own table (REST: api/src/errors.ts; the OAuth endpoints' RFC 6749 bodies:
 * api/src/oauth/errors.ts). The REST body's `code` is the domain code itself.
 */

export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

export const DOMAIN_ERROR_CODES = [
  'validation_error',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'invalid_transition',
  /** The request body is over the size limit. */
  'payload_too_large',
  /** The request body's media type or encoding is not one the endpoint reads. */
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  /** Client authentication failed (the token endpoint's private_key_jwt). */
  'invalid_client',
  /** The client is authenticated but may not get a token now (e.g. the agent is suspended). */
  'invalid_grant',
  'invalid_scope',
  /** A requested resource (RFC 8707) is malformed or not acceptable. */
  'invalid_target',
  'unsupported_grant_type',
  /** The authorization endpoint was asked for a response type (a code, a token) this issuer never gives. */
  'unsupported_response_type',
  /** A DPoP proof (RFC 9449) is missing where the token needs one, malformed or does not match the request. */
  'invalid_dpop_proof',
  /** The DPoP proof must carry the server's current nonce (RFC 9449 §8), sent in the DPoP-Nonce header. */
  'use_dpop_nonce',
] as const;

export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  readonly details: ErrorDetail[];
  /** Why, in a word (e.g. `unknown_agent`): for the audit log, the server log and metrics; never sent. */
  readonly reason: string | undefined;

  constructor(message: string, details: ErrorDetail[] = [], reason?: string) {
    super(message);
    this.name = new.target.name;
    this.details = details;
    this.reason = reason;
  }
}

export class ValidationError extends DomainError {
  readonly code = 'validation_error';
}
export class UnauthenticatedError extends DomainError {
  readonly code = 'unauthenticated';
}
export class ForbiddenError extends DomainError {
  readonly code = 'forbidden';
}
export class NotFoundError extends DomainError {
  readonly code = 'not_found';
}
export class ConflictError extends DomainError {
  readonly code = 'conflict';
}
export class InvalidTransitionError extends DomainError {
  readonly code = 'invalid_transition';
}
export class PayloadTooLargeError extends DomainError {
  readonly code = 'payload_too_large';
}
export class UnsupportedMediaTypeError extends DomainError {
  readonly code = 'unsupported_media_type';
}
export class RateLimitedError extends DomainError {
  readonly code = 'rate_limited';
  constructor(message: string, readonly retryAfterSeconds: number, reason?: string) {
    super(message, [], reason);
  }
}
export class ServiceUnavailableError extends DomainError {
  readonly code = 'unavailable';
}
/** A refusal whose reason (for the audit log) is its only detail. */
abstract class RefusalError extends DomainError {
  constructor(message: string, reason?: string) {
    super(message, [], reason);
  }
}
export class InvalidClientError extends RefusalError {
  readonly code = 'invalid_client';
}
export class InvalidGrantError extends RefusalError {
  readonly code = 'invalid_grant';
}
export class InvalidScopeError extends RefusalError {
  readonly code = 'invalid_scope';
}
export class InvalidTargetError extends DomainError {
  readonly code = 'invalid_target';
}
export class UnsupportedGrantTypeError extends DomainError {
  readonly code = 'unsupported_grant_type';
}
export class UnsupportedResponseTypeError extends DomainError {
  readonly code = 'unsupported_response_type';
}
export class InvalidDpopProofError extends RefusalError {
  readonly code = 'invalid_dpop_proof';
}
export class UseDpopNonceError extends RefusalError {
  readonly code = 'use_dpop_nonce';
}
