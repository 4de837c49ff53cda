/**
 * Domain errors. Each carries a stable machine `code` and the HTTP status it maps to;
 * services throw them, and the one error middleware renders them.
 */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

export abstract class ApiError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly details: ErrorDetail[];
  constructor(message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
  /** Whether the message may be shown to the caller (5xx messages are hidden). */
  get expose(): boolean {
    return this.status < 500;
  }
}

export class ValidationError extends ApiError {
  readonly status = 400;
  readonly code = 'validation_error';
}
export class UnauthenticatedError extends ApiError {
  readonly status = 401;
  readonly code = 'unauthenticated';
}
export class ForbiddenError extends ApiError {
  readonly status = 403;
  readonly code = 'forbidden';
}
export class NotFoundError extends ApiError {
  readonly status = 404;
  readonly code = 'not_found';
}
export class ConflictError extends ApiError {
  readonly status = 409;
  readonly code = 'conflict';
}
export class InvalidTransitionError extends ApiError {
  readonly status = 409;
  readonly code = 'invalid_transition';
}
export class PayloadTooLargeError extends ApiError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}
export class UnsupportedMediaTypeError extends ApiError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}
export class RateLimitedError extends ApiError {
  readonly status = 429;
  readonly code = 'rate_limited';
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(message);
  }
}
export class ServiceUnavailableError extends ApiError {
  readonly status = 503;
  readonly code = 'unavailable';
}
