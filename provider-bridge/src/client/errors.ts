/**
 * Typed errors of the provider's REST client. One class per API error family (docs/rest-api.md)
 * plus transport failures, so callers branch on classes, not on status numbers.
 */
export interface ApiErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  static readonly code: string = 'api_error';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly ApiErrorDetail[] = [],
    readonly requestId: string | null = null,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** Builds the most specific subclass for a response status. */
  static from(status: number, body: unknown, requestId: string | null): ApiError {
    const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    const code = typeof err?.code === 'string' ? err.code : `http_${status}`;
    const message = typeof err?.message === 'string' ? err.message : `HTTP ${status}`;
    const details = Array.isArray(err?.details)
      ? (err.details as unknown[]).flatMap((d) => {
          const o = d as { path?: unknown; message?: unknown };
          return typeof o?.message === 'string' ? [{ path: String(o.path ?? ''), message: o.message }] : [];
        })
      : [];
    const Cls =
      status === 400
        ? BadRequestError
        : status === 401
          ? AuthenticationError
          : status === 403
            ? PermissionDeniedError
            : status === 404
              ? NotFoundError
              : status === 409
                ? ConflictError
                : status === 429
                  ? RateLimitError
                  : status >= 500
                    ? InternalServerError
                    : ApiError;
    return new Cls(status, code, message, details, requestId);
  }
}

export class BadRequestError extends ApiError {}
export class AuthenticationError extends ApiError {}
export class PermissionDeniedError extends ApiError {}
export class NotFoundError extends ApiError {}
export class ConflictError extends ApiError {}
export class RateLimitError extends ApiError {}
export class InternalServerError extends ApiError {}

/** The endpoint could not be reached (DNS, refused, reset) or did not answer in time. */
export class ConnectionError extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** Terraform asked the provider to stop (StopProvider); the request was cancelled. */
export class AbortedError extends Error {
  constructor() {
    super('request cancelled because Terraform asked the provider to stop');
    this.name = 'AbortedError';
  }
}
