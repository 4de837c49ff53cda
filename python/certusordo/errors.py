"""Typed errors: every failure the SDK reports is a :class:`CertusOrdoError`.

HTTP failures become the right subclass through one factory, :func:`generate`, exactly as in the
TypeScript SDK, so ``except NotFoundError:`` works and scripts can map classes to exit codes.
Messages come from the server's error body or from a fixed text here: the SDK never puts a request
header, an API key, a secret or a token into an error.
"""
from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Type

__all__ = [
    "ErrorDetail",
    "CertusOrdoError",
    "ValidationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "TokenVerificationError",
    "generate",
]


@dataclass(frozen=True)
class ErrorDetail:
    """One field-level problem reported by the server (``validation_error``)."""

    path: str
    message: str


class CertusOrdoError(Exception):
    """Base class of every SDK error.

    Attributes: ``status`` (HTTP status, when the server answered), ``code`` (the API's stable
    code: ``not_found``, ``invalid_transition``, ``invalid_client`` …), ``request_id`` (quote it in a
    support request), ``details`` (field problems) and ``headers`` (response headers, lower-case).
    """

    default_code: str = "error"

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        request_id: Optional[str] = None,
        details: Optional[List[ErrorDetail]] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code if code is not None else type(self).default_code
        self.request_id = request_id
        self.details: Optional[List[ErrorDetail]] = details
        self.headers: Dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r}, request_id={self.request_id!r})"


class ValidationError(CertusOrdoError):
    """400: the request was rejected by validation; ``details`` names each field, and so does ``str(e)``."""

    default_code = "validation_error"

    def __init__(self, message: str, **kwargs: Any) -> None:
        if kwargs.get("details") is None:
            kwargs["details"] = []
        super().__init__(message, **kwargs)

    def __str__(self) -> str:
        lines = [f"{d.path}: {d.message}" if d.path else d.message for d in (self.details or [])]
        return f"{self.message} ({'; '.join(lines)})" if lines else self.message


class AuthenticationError(CertusOrdoError):
    """401: missing, unknown or revoked API key; ``invalid_client``/``invalid_grant`` at the token endpoint."""

    default_code = "unauthenticated"


class PermissionDeniedError(CertusOrdoError):
    """403: the API key's role does not allow the call (or a session refused an operation)."""

    default_code = "forbidden"


class NotFoundError(CertusOrdoError):
    """404: unknown id (also malformed ids and other organizations' objects)."""

    default_code = "not_found"


class ConflictError(CertusOrdoError):
    """409: a real conflict (name taken, idempotency key reused, ``invalid_transition``). Never retried."""

    default_code = "conflict"


class RateLimitError(CertusOrdoError):
    """429 after the retries were used up; ``retry_after`` is the server's hint in seconds, if any."""

    default_code = "rate_limited"

    @property
    def retry_after(self) -> Optional[float]:
        return retry_after_seconds(self.headers)


class InternalServerError(CertusOrdoError):
    """5xx: the server failed; the details are in its log under ``request_id``."""

    default_code = "internal_error"


class APIConnectionError(CertusOrdoError):
    """The server could not be reached (refused connection, DNS, reset)."""

    default_code = "connection_error"

    def __init__(self, message: str = "connection error", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""

    default_code = "timeout"

    def __init__(self, message: str = "request timed out", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class TokenVerificationError(CertusOrdoError):
    """``verify_access_token`` rejected a token; ``code`` names the failed check (``ERR_JWT_EXPIRED`` …)."""

    default_code = "invalid_token"


#: OAuth errors whose class is not what their status says (RFC 6749 answers 400 to a suspended agent).
_OAUTH_ERROR_CLASSES: Dict[str, Type[CertusOrdoError]] = {
    "invalid_client": AuthenticationError,
    "invalid_grant": AuthenticationError,
    "invalid_token": AuthenticationError,
    "unauthorized_client": PermissionDeniedError,
    "insufficient_scope": PermissionDeniedError,
}


def _class_for_status(status: int) -> Type[CertusOrdoError]:
    if status in (400, 422):
        return ValidationError
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return InternalServerError
    return CertusOrdoError


def generate(status: int, body: Any, headers: Optional[Mapping[str, str]] = None) -> CertusOrdoError:
    """Builds the right error for a non-2xx response.

    ``body`` is the parsed JSON body (or None): the API's ``{error: {code, message, details},
    request_id}`` or an OAuth (RFC 6749) ``{error, error_description}``.
    """
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    code: Optional[str] = None
    message: Optional[str] = None
    details: Optional[List[ErrorDetail]] = None
    request_id: Optional[str] = None
    oauth = False
    if isinstance(body, dict):
        if isinstance(body.get("request_id"), str):
            request_id = body["request_id"]
        err = body.get("error")
        if isinstance(err, dict):
            if isinstance(err.get("code"), str):
                code = err["code"]
            if isinstance(err.get("message"), str):
                message = err["message"]
            if isinstance(err.get("details"), list):
                details = []
                for d in err["details"]:
                    if not isinstance(d, dict):
                        continue
                    path = d.get("path")
                    path_s = path if isinstance(path, str) else ".".join(str(p) for p in path) if isinstance(path, list) else ""
                    msg = d.get("message")
                    details.append(ErrorDetail(path_s, msg if isinstance(msg, str) else str(msg if msg is not None else "")))
        elif isinstance(err, str):
            oauth = True
            code = err
            desc = body.get("error_description")
            message = desc if isinstance(desc, str) else err
    request_id = hdrs.get("x-request-id", request_id)
    cls = (_OAUTH_ERROR_CLASSES.get(code) if oauth and code else None) or _class_for_status(status)
    return cls(
        message if message is not None else f"request failed with status {status}",
        status=status,
        code=code,
        request_id=request_id,
        details=details,
        headers=hdrs,
    )


def retry_after_seconds(headers: Mapping[str, str], now: Optional[float] = None) -> Optional[float]:
    """Reads ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), in seconds."""
    hdrs = {k.lower(): v for k, v in headers.items()}
    ms = hdrs.get("retry-after-ms", "").strip()
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    ra = hdrs.get("retry-after", "").strip()
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
