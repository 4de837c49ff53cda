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

  /**
   * Builds the most specific subclass for a response status. Every string taken from the response
   * goes through `clean` (the client scrubs its credentials from them); the raw body is not kept.
   */
  static from(status: number, body: unknown, requestId: string | null, clean: (text: string) => string = (t) => t): ApiError {
    const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    const code = typeof err?.code === 'string' ? clean(err.code) : `http_${status}`;
    const message = typeof err?.message === 'string' ? clean(err.message) : `HTTP ${status}`;
    const details = Array.isArray(err?.details)
      ? (err.details as unknown[]).slice(0, 20).flatMap((d) => {
          const o = d as { path?: unknown; message?: unknown };
          return typeof o?.message === 'string' ? [{ path: clean(String(o.path ?? '')), message: clean(o.message) }] : [];
        })
      : [];
    requestId = requestId === null ? null : clean(requestId);
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

/** The response body exceeded the transport's size cap; the read was aborted and the body dropped. */
export class ResponseTooLargeError extends Error {
  constructor(
    readonly origin: string,
    readonly limitBytes: number,
    readonly status: number,
  ) {
    super(`the response from ${origin} (HTTP ${status}) exceeded the ${formatBytes(limitBytes)} limit; the read was aborted and the body discarded`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * The client refused to send a request: plain http to a host that is not loopback without the
 * `insecure` opt-in, or a loopback name that resolved elsewhere. Nothing was sent.
 */
export class InsecureEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InsecureEndpointError';
  }
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}
