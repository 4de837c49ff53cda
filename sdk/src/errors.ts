/**
 * Typed errors. Every failure the SDK reports is a `CertusOrdoError`; HTTP failures are turned into
 * the right subclass by the single `generate()` factory, so callers can `catch (e) { if (e instanceof
 * NotFoundError) … }` and scripts can map classes to exit codes.
 *
 * Messages come from the server's error body or from a fixed text here: the SDK never puts a request
 * header, an API key, a secret or a token into an error.
 */

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
  headers?: Headers | undefined;
  cause?: unknown;
}

export class CertusOrdoError extends Error {
  static readonly code: string = 'error';
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** Stable machine-readable code (`not_found`, `invalid_transition`, `invalid_client`, …). */
  readonly code: string;
  /** The server's request id (the `X-Request-Id` header), to quote in a support request. */
  readonly requestId: string | undefined;
  readonly details: ErrorDetail[] | undefined;
  /** The response headers (not enumerable, so logging an error stays short). */
  declare readonly headers: Headers | undefined;

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
  static generate(status: number, body: unknown, headers?: Headers): CertusOrdoError {
    const parsed = parseErrorBody(body);
    const requestId = headers?.get('x-request-id') ?? parsed.requestId;
    const message = parsed.message ?? `request failed with status ${status}`;
    const init: CertusOrdoErrorInit = { status, code: parsed.code, requestId, details: parsed.details, headers };
    const Cls = (parsed.oauth && parsed.code ? OAUTH_ERROR_CLASSES[parsed.code] : undefined) ?? errorClassForStatus(status);
    return new Cls(message, init);
  }
}

/** Convenience alias of `CertusOrdoError.generate`. */
export const generate = (status: number, body: unknown, headers?: Headers): CertusOrdoError =>
  CertusOrdoError.generate(status, body, headers);

/** 400: the request was rejected by validation (see `details` for each field). */
export class ValidationError extends CertusOrdoError {
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
/** 401: missing, unknown or revoked API key / credentials. */
export class AuthenticationError extends CertusOrdoError {
  static override readonly code: string = 'unauthenticated';
}
/** 403: the API key's role does not allow the call. */
export class PermissionDeniedError extends CertusOrdoError {
  static override readonly code: string = 'forbidden';
}
/** 404: unknown id (also malformed ids and other organizations' objects). */
export class NotFoundError extends CertusOrdoError {
  static override readonly code: string = 'not_found';
}
/** 409: a real conflict (name taken, idempotency key reused, `invalid_transition` of a revoked agent). */
export class ConflictError extends CertusOrdoError {
  static override readonly code: string = 'conflict';
}
/** 429: too many requests; `retryAfterMs` is the server's hint when it sent one. */
export class RateLimitError extends CertusOrdoError {
  static override readonly code: string = 'rate_limited';
  get retryAfterMs(): number | undefined {
    return this.headers ? retryAfterMs(this.headers) : undefined;
  }
}
/** 5xx: the server failed; details are in its log under `requestId`. */
export class InternalServerError extends CertusOrdoError {
  static override readonly code: string = 'internal_error';
}
/** The server could not be reached (DNS, refused connection, reset, aborted by the caller). */
export class APIConnectionError extends CertusOrdoError {
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
/** An access token failed verification (`verifyAccessToken`). `code` is jose's (`ERR_JWT_EXPIRED`, …). */
export class TokenVerificationError extends CertusOrdoError {
  static override readonly code: string = 'invalid_token';
}

type ErrorClass = new (message: string, init: CertusOrdoErrorInit) => CertusOrdoError;

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
  return CertusOrdoError;
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

/** Reads `retry-after-ms` or `Retry-After` (seconds or an HTTP date). */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
