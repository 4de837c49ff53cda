/**
 * The REST edge's view of the domain errors (domain/errors.ts): the one table that gives each
 * domain code its HTTP status. The error middleware (middleware/error-handler.ts) renders them as
 * `{error: {code, message, details}, request_id}`; messages of 5xx answers are not shown.
 *
 * The error classes are re-exported for the HTTP edge (routes, middleware); services import them
 * from domain/errors.ts.
 */
import type { DomainError, DomainErrorCode } from './domain/errors';

export {
  ConflictError, DomainError, ForbiddenError, InvalidDpopProofError, InvalidTransitionError, NotFoundError, PayloadTooLargeError, RateLimitedError,
  ServiceUnavailableError, UnauthenticatedError, UnsupportedMediaTypeError, UseDpopNonceError, ValidationError,
} from './domain/errors';
export type { ErrorDetail } from './domain/errors';

export const REST_STATUS: Readonly<Record<DomainErrorCode, number>> = {
  validation_error: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_transition: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  invalid_client: 401,
  invalid_grant: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  // At a resource (RFC 9449 §7.1): the token was not presented with a valid proof.
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
};

export function restStatus(err: DomainError): number {
  return REST_STATUS[err.code];
}
