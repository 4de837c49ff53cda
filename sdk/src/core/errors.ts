/**
 * The one error hierarchy of every CertusOrdo client (SDK, CLI, Terraform provider). Callers branch
 * on classes, scripts on the stable `code`; nothing branches on status numbers.
 *
 *   CertusOrdoError                      every failure a client reports
 *   ├─ ConfigurationError                bad client setup (base URL, credential characters, endpoint policy)
 *   ├─ TokenVerificationError            `verifyAccessToken` rejected a token
 *   └─ APIError                          a request to the control plane failed
 *      ├─ ValidationError (= BadRequestError)   400 and 422
 *      ├─ AuthenticationError                   401; also OAuth invalid_client / invalid_grant / invalid_token
 *      ├─ PermissionDeniedError                 403; also OAuth unauthorized_client / insufficient_scope
 *      ├─ NotFoundError                         404
 *      ├─ ConflictError                         409
 *      ├─ RateLimitError                        429
 *      ├─ InternalServerError                   5xx
 *      ├─ ResponseTooLargeError                 a fetch adapter's body cap was exceeded
 *      └─ APIConnectionError                    no usable answer
 *         ├─ APITimeoutError                    no answer within the timeout
 *         └─ APIUserAbortError                  the caller's AbortSignal fired
 *
 * 400 is one class: the API answers 400 only for input it refused (`validation_error`, OAuth
 * `invalid_request` / `invalid_scope`, ...), so `ValidationError` is the class of every 400 and
 * 422, with the server's `code`; `BadRequestError` names the same class for readers of other SDKs.
 *
 * Messages come from the server's error body or from fixed texts here, never from request headers:
 * no error carries an API key, a secret or a token. A client that wants more (the provider scrubs
 * text a broken proxy may echo) passes `redact`, applied to every string taken from a response.
 */
import type { HeadersLike } from './fetch';
import { retryAfterMs } from './retry';

/** One field-level problem reported by the server (`validation_error`). */
export interface ErrorDetail {
  path: string;
  message: string;
}

export interface CertusOrdoErrorInit {
  status?: number | undefined;
  code?: string | undefined;
  requestId?: string | undefined;
  details?: ErrorDetail[] | undefined;
  headers?: HeadersLike | undefined;
  cause?: unknown;
}

export class CertusOrdoError extends Error {
  static readonly code: string = 'error';
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** Stable machine-readable code (`not_found`, `invalid_transition`, `invalid_client`, ...). */
  readonly code: string;
  /** The server's request id (the `X-Request-Id` header), to quote in a support request. */
  readonly requestId: string | undefined;
  readonly details: ErrorDetail[] | undefined;
  /** The response headers (not enumerable, so logging an error stays short). */
  declare readonly headers: HeadersLike | undefined;

  constructor(message: string, init: CertusOrdoErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code ?? (new.target as typeof CertusOrdoError).code;
    this.requestId = init.requestId;
    this.details = init.details;
    Object.defineProperty(this, 'headers', { value: init.headers, enumerable: false });
  }

  /**
   * Builds the right error for a non-2xx response. `body` is the parsed JSON body (or undefined):
   * the API's `{error: {code, message, details}, request_id}` or an OAuth (RFC 6749 / 6750)
   * `{error, error_description}`.
   */
  static generate(status: number, body: unknown, headers?: HeadersLike): APIError {
    return errorFromResponse(status, body, headers);
  }
}

/** Convenience alias of `CertusOrdoError.generate`. */
export const generate = (status: number, body: unknown, headers?: HeadersLike): APIError => CertusOrdoError.generate(status, body, headers);

/** The client is set up wrong (base URL, a credential with invalid characters, a refused endpoint); nothing was sent. */
export class ConfigurationError extends CertusOrdoError {
  static override readonly code: string = 'invalid_configuration';
}

/** An access token failed verification (`verifyAccessToken`). `code` is jose's (`ERR_JWT_EXPIRED`, ...). */
export class TokenVerificationError extends CertusOrdoError {
  static override readonly code: string = 'invalid_token';
}

/** A request to the control plane failed: the server refused it, or no usable answer came. */
export class APIError extends CertusOrdoError {
  static override readonly code: string = 'api_error';
}

/** 400 and 422: the input was refused (see `details` for each field). */
export class ValidationError extends APIError {
  static override readonly code: string = 'validation_error';
  declare readonly details: ErrorDetail[];
  constructor(message: string, init: CertusOrdoErrorInit = {}) {
    super(message, { ...init, details: init.details ?? [] });
  }
  override toString(): string {
    const lines = this.details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
    return lines.length ? `${this.name}: ${this.message} (${lines.join('; ')})` : super.toString();
  }
}
/** The class of every 400 (the same class as `ValidationError`). */
export const BadRequestError = ValidationError;
export type BadRequestError = ValidationError;

/** 401: missing, unknown or revoked API key / credentials. */
export class AuthenticationError extends APIError {
  static override readonly code: string = 'unauthenticated';
}
/** 403: the API key's role does not allow the call. */
export class PermissionDeniedError extends APIError {
  static override readonly code: string = 'forbidden';
}
/** 404: unknown id (also malformed ids and other organizations' objects). */
export class NotFoundError extends APIError {
  static override readonly code: string = 'not_found';
}
/** 409: a real conflict (name taken, idempotency key reused, `invalid_transition` of a revoked agent). */
export class ConflictError extends APIError {
  static override readonly code: string = 'conflict';
}
/** 429: too many requests; `retryAfterMs` is the server's hint when it sent one. */
export class RateLimitError extends APIError {
  static override readonly code: string = 'rate_limited';
  get retryAfterMs(): number | undefined {
    return this.headers ? retryAfterMs(this.headers) : undefined;
  }
}
/** 5xx: the server failed; details are in its log under `requestId`. */
export class InternalServerError extends APIError {
  static override readonly code: string = 'internal_error';
}

/**
 * A response body exceeded the cap of the fetch adapter that read it (the provider caps bodies);
 * the read was aborted and the body dropped. Never retried: a second attempt would read the same.
 */
export class ResponseTooLargeError extends APIError {
  static override readonly code: string = 'response_too_large';
  readonly origin: string;
  readonly limitBytes: number;
  constructor(info: { origin: string; limitBytes: number; status: number }) {
    super(`the response from ${info.origin} (HTTP ${info.status}) exceeded the ${formatBytes(info.limitBytes)} limit; the read was aborted and the body discarded`, {
      status: info.status,
    });
    this.origin = info.origin;
    this.limitBytes = info.limitBytes;
  }
}

/** The server could not be reached (DNS, refused connection, reset). */
export class APIConnectionError extends APIError {
  static override readonly code: string = 'connection_error';
  constructor(message = 'connection error', init: CertusOrdoErrorInit = {}) {
    super(message, init);
  }
}
/** The request did not finish within `timeoutMs`. */
export class APITimeoutError extends APIConnectionError {
  static override readonly code: string = 'timeout';
  constructor(message = 'request timed out', init: CertusOrdoErrorInit = {}) {
    super(message, init);
  }
}
/** The caller's `signal` aborted the request (or the wait before a retry); never retried. */
export class APIUserAbortError extends APIConnectionError {
  static override readonly code: string = 'aborted';
  constructor(message = 'request aborted by the caller', init: CertusOrdoErrorInit = {}) {
    super(message, init);
  }
}

type ErrorClass = new (message: string, init: CertusOrdoErrorInit) => APIError;

/**
 * OAuth errors whose class is not what their status says: RFC 6749 answers 400 to a suspended or
 * revoked agent (`invalid_grant`), which is an authentication failure, not bad input.
 */
const OAUTH_ERROR_CLASSES: Record<string, ErrorClass> = {
  invalid_client: AuthenticationError,
  invalid_grant: AuthenticationError,
  invalid_token: AuthenticationError,
  unauthorized_client: PermissionDeniedError,
  insufficient_scope: PermissionDeniedError,
};

function errorClassForStatus(status: number): ErrorClass {
  if (status === 400 || status === 422) return ValidationError;
  if (status === 401) return AuthenticationError;
  if (status === 403) return PermissionDeniedError;
  if (status === 404) return NotFoundError;
  if (status === 409) return ConflictError;
  if (status === 429) return RateLimitError;
  if (status >= 500) return InternalServerError;
  return APIError;
}

/** The most details kept from one response: enough for any real refusal, not a page of echo. */
const MAX_DETAILS = 20;

/** `generate` with every response-supplied string passed through `redact`. */
export function errorFromResponse(status: number, body: unknown, headers?: HeadersLike, redact: (text: string) => string = (t) => t): APIError {
  const parsed = parseErrorBody(body);
  const rawRequestId = headers?.get('x-request-id') ?? parsed.requestId;
  const init: CertusOrdoErrorInit = {
    status,
    code: parsed.code === undefined ? undefined : redact(parsed.code),
    requestId: rawRequestId === undefined ? undefined : redact(rawRequestId),
    details: parsed.details?.slice(0, MAX_DETAILS).map((d) => ({ path: redact(d.path), message: redact(d.message) })),
    headers,
  };
  const Cls = (parsed.oauth && parsed.code ? OAUTH_ERROR_CLASSES[parsed.code] : undefined) ?? errorClassForStatus(status);
  return new Cls(parsed.message === undefined ? `request failed with status ${status}` : redact(parsed.message), init);
}

interface ParsedErrorBody {
  oauth?: boolean;
  code?: string;
  message?: string;
  details?: ErrorDetail[];
  requestId?: string;
}

function parseErrorBody(body: unknown): ParsedErrorBody {
  if (!isRecord(body)) return {};
  const out: ParsedErrorBody = {};
  if (typeof body.request_id === 'string') out.requestId = body.request_id;
  const err = body.error;
  if (isRecord(err)) {
    // The API's shape: {error: {code, message, details}, request_id}
    if (typeof err.code === 'string') out.code = err.code;
    if (typeof err.message === 'string') out.message = err.message;
    if (Array.isArray(err.details)) {
      out.details = err.details.filter(isRecord).map((d) => ({
        path: typeof d.path === 'string' ? d.path : Array.isArray(d.path) ? d.path.join('.') : '',
        message: typeof d.message === 'string' ? d.message : String(d.message ?? ''),
      }));
    }
  } else if (typeof err === 'string') {
    // OAuth 2.0 shape (RFC 6749 §5.2): {error, error_description}
    out.oauth = true;
    out.code = err;
    out.message = typeof body.error_description === 'string' ? body.error_description : err;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}
