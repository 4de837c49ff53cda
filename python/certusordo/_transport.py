"""The SDK's only HTTP transport (standard library ``http.client``, with keep-alive).

Every call of the admin client and of the agent credentials goes through :meth:`Transport.request`,
which owns timeouts, retries with backoff, ``Retry-After``, the Idempotency-Key of creates, and
turning failures into typed errors. The rules are the TypeScript SDK's (sdk/src/internal/transport.ts):

- retried: connection errors, timeouts, 408, 429 and 5xx (``x-should-retry`` overrides), up to
  ``max_retries`` (default 2) times; never 409, which in this API is a real conflict;
- waits: ``Retry-After`` when the server sent one of at most 60 s, else 0.5 s, 1 s, 2 s … capped
  at 8 s, each ±25 % jitter;
- creates carry one ``Idempotency-Key`` generated before the first attempt, so a retried create
  can never make two objects.

Keep-alive: each thread keeps one connection per server. A connection idle for longer than the
server's keep-alive window may have been closed by the server; it is replaced before use, and a
reused connection that fails before any response byte is retried once on a fresh connection
without spending a retry when the request is safe to repeat (GET/DELETE, or carrying an
Idempotency-Key).
"""
from __future__ import annotations

import http.client
import json
import random as _random
import socket
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, TypedDict, Union
from urllib.parse import quote, urlencode, urlsplit


from ._version import __version__
from .errors import APIConnectionError, APITimeoutError, CertusOrdoError, ErrorDetail, ValidationError, generate, retry_after_seconds

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
#: A server's Retry-After is honoured up to this; a longer one falls back to our own backoff.
MAX_RETRY_AFTER = 60.0
#: The server closes idle keep-alive connections after 5 s; reconnect before that.
MAX_IDLE_SECONDS = 4.0
DEFAULT_BASE_URL = "http://127.0.0.1:8080"


class RequestOptions(TypedDict, total=False):
    """Per-call options every SDK method accepts as ``options=``."""

    #: Per-attempt timeout in seconds; overrides the client's.
    timeout: float
    #: Overrides the client's ``max_retries``.
    max_retries: int
    #: For creates: your own Idempotency-Key (one is generated otherwise).
    idempotency_key: str
    #: Extra request headers.
    headers: Dict[str, str]


QueryValue = Union[str, int, float, bool, None, Any]
Form = Sequence[Tuple[str, str]]


def encode_path(template: str, *values: str) -> str:
    """Fills ``{}`` slots with percent-encoded path segments, so an id can never change the route.

    ``"."`` and ``".."`` are refused: URL parsers remove them as dot segments even when encoded.
    """
    parts = template.split("{}")
    if len(parts) != len(values) + 1:
        raise ValueError("path template and values do not match")
    out = parts[0]
    for value, rest in zip(values, parts[1:]):
        s = str(value)
        if s in ("", ".", ".."):
            raise ValidationError(
                f"invalid path parameter {json.dumps(s)}",
                code="invalid_path_parameter",
                details=[ErrorDetail("id", 'must not be empty, "." or ".."')],
            )
        out += quote(s, safe="") + rest
    return out


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    """openai/stripe rules, except 409: a conflict here is real, never transient."""
    hint = headers.get("x-should-retry")
    if hint == "true":
        return True
    if hint == "false":
        return False
    return status == 408 or status == 429 or status >= 500


def retry_delay(attempt: int, headers: Optional[Mapping[str, str]], rand: Callable[[], float] = _random.random) -> float:
    """Seconds before retry number ``attempt + 1``: Retry-After (≤ 60 s) or 0.5·2^attempt (≤ 8) ±25 %."""
    hinted = retry_after_seconds(headers) if headers is not None else None
    if hinted is not None and hinted <= MAX_RETRY_AFTER:
        return hinted
    base = min(INITIAL_RETRY_DELAY * 2**attempt, MAX_RETRY_DELAY)
    return base * (1 + (rand() * 2 - 1) * 0.25)


def normalize_base_url(base_url: str) -> str:
    u = urlsplit(base_url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise CertusOrdoError("base_url must be an absolute http(s) URL", code="invalid_configuration")
    if u.username or u.password:
        raise CertusOrdoError("base_url must not contain credentials; pass api_key instead", code="invalid_configuration")
    return base_url.rstrip("/")


_INVALID_JSON = object()


class _Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: Dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class _StaleConnection(Exception):
    """A reused keep-alive connection failed before any response byte arrived."""


class Transport:
    """Sends requests to one control plane. Thread-safe: connections are per thread."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        sleep: Optional[Callable[[float], None]] = None,
        rand: Optional[Callable[[], float]] = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        parts = urlsplit(self.base_url)
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        self.max_retries = DEFAULT_MAX_RETRIES if max_retries is None else int(max_retries)
        self._api_key = api_key
        self._default_headers = dict(default_headers or {})
        self._sleep = sleep if sleep is not None else time.sleep
        self._rand = rand if rand is not None else _random.random
        self._local = threading.local()

    # ---- URLs ---------------------------------------------------------------------------------

    def url(self, path: str, query: Optional[Mapping[str, QueryValue]] = None) -> str:
        """Absolute URL of an API path (e.g. the token endpoint, the client assertion's audience)."""
        return self.base_url + self._target(path, query)[len(self._prefix) :]

    def _target(self, path: str, query: Optional[Mapping[str, QueryValue]]) -> str:
        pairs = []
        for k, v in (query or {}).items():
            if v is None:
                continue
            if hasattr(v, "isoformat"):
                v = _iso(v)
            elif isinstance(v, bool):
                v = "true" if v else "false"
            pairs.append((k, str(v)))
        return self._prefix + path + (("?" + urlencode(pairs)) if pairs else "")

    # ---- requests -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, QueryValue]] = None,
        json_body: Any = None,
        form: Union[Form, Callable[[], Form], None] = None,
        idempotent: bool = False,
        bearer: Union[str, Callable[[], str], None] = None,
        authorize: Optional[Callable[[str, str], Dict[str, str]]] = None,
        options: Optional[RequestOptions] = None,
        on_response: Optional[Callable[[Mapping[str, str]], None]] = None,
    ) -> Any:
        """Sends the request, retrying when that is safe and useful; returns the parsed JSON body.

        ``authorize(method, url)``, instead of ``bearer``, returns the headers that authorize one
        attempt (a DPoP proof is bound to the method and URL and single-use, so it is made per attempt).
        ``on_response(headers)`` is told every answer's headers, errors and retried ones included.
        """
        opts: RequestOptions = options or {}
        max_retries = opts.get("max_retries", self.max_retries)
        timeout = float(opts.get("timeout", self.timeout))
        target = self._target(path, query)
        # One key per logical request, generated before the loop: every retry carries the same key.
        idempotency_key = (opts.get("idempotency_key") or str(uuid.uuid4())) if idempotent else None
        replay_safe = method in ("GET", "HEAD", "DELETE") or idempotency_key is not None

        attempt = 0
        while True:
            retries_left = max_retries - attempt
            # Built per attempt: a form or bearer function (a signed client assertion) must be fresh each time.
            headers, body = self._build(method, json_body, form, bearer, idempotency_key, opts)
            if authorize is not None:
                headers.update(self._checked(authorize(method, self.url(path, query))))
            try:
                try:
                    response = self._send(method, target, headers, body, timeout)
                except _StaleConnection:
                    if not replay_safe:
                        raise APIConnectionError(self._connection_message(method, path))
                    response = self._send(method, target, headers, body, timeout, fresh=True)
            except APIConnectionError as err:
                if retries_left <= 0:
                    raise err
                self._sleep(retry_delay(attempt, None, self._rand))
                attempt += 1
                continue

            if on_response is not None:
                on_response(response.headers)
            parsed = _parse_body(response.body, response.headers)
            if 200 <= response.status < 300:
                if parsed is _INVALID_JSON:
                    raise CertusOrdoError(
                        f"invalid JSON in response from {method} {path}",
                        status=response.status,
                        request_id=response.headers.get("x-request-id"),
                    )
                return parsed
            if retries_left > 0 and should_retry(response.status, response.headers):
                self._sleep(retry_delay(attempt, response.headers, self._rand))
                attempt += 1
                continue
            raise generate(response.status, None if parsed is _INVALID_JSON else parsed, response.headers)

    @staticmethod
    def _checked(headers: Dict[str, str]) -> Dict[str, str]:
        for value in headers.values():
            if not all(0x20 <= ord(c) <= 0x7E for c in value):
                raise CertusOrdoError("the API key or token contains invalid characters (non-ASCII)", code="invalid_configuration")
        return headers

    def _build(
        self,
        method: str,
        json_body: Any,
        form: Union[Form, Callable[[], Form], None],
        bearer: Union[str, Callable[[], str], None],
        idempotency_key: Optional[str],
        opts: RequestOptions,
    ) -> Tuple[Dict[str, str], Optional[bytes]]:
        headers = {
            "Accept": "application/json",
            "User-Agent": f"certusordo-sdk-python/{__version__}",
            **self._default_headers,
        }
        token = bearer() if callable(bearer) else (self._api_key if bearer is None else bearer)
        if token:
            if not all(0x21 <= ord(c) <= 0x7E for c in token):
                # Refused here, without the value: http.client would quote it in its own error.
                raise CertusOrdoError(
                    "the API key or token contains invalid characters (whitespace or non-ASCII)", code="invalid_configuration"
                )
            headers["Authorization"] = f"Bearer {token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body: Optional[bytes] = None
        if form is not None:
            pairs = form() if callable(form) else form
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(list(pairs)).encode("ascii")
        elif json_body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        elif method in ("POST", "PATCH", "PUT"):
            headers["Content-Length"] = "0"
        headers.update(opts.get("headers") or {})
        return headers, body

    # ---- connections ----------------------------------------------------------------------------

    def _discard(self, conn: http.client.HTTPConnection) -> None:
        """Closes a connection that failed or that the server will close; the next request opens a new one."""
        conn.close()
        self._local.conn = None

    def _connection(self, timeout: float, fresh: bool) -> Tuple[http.client.HTTPConnection, bool]:
        """The thread's connection (reused unless idle too long) and whether it was reused."""
        pool = getattr(self._local, "conn", None)
        now = time.monotonic()
        if pool is not None and not fresh and now - pool[1] < MAX_IDLE_SECONDS:
            conn = pool[0]
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
                return conn, True
        if pool is not None:
            pool[0].close()
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=timeout)
        self._local.conn = (conn, now)
        return conn, False

    def _send(
        self, method: str, target: str, headers: Dict[str, str], body: Optional[bytes], timeout: float, fresh: bool = False
    ) -> _Response:
        conn, reused = self._connection(timeout, fresh)
        deadline = time.monotonic() + timeout
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.BadStatusLine) as err:
            self._discard(conn)
            if reused:
                raise _StaleConnection() from err
            raise APIConnectionError(self._connection_message(method, target)) from err
        except socket.timeout as err:
            self._discard(conn)
            raise APITimeoutError(f"request timed out after {timeout:g} s") from err
        except (OSError, http.client.HTTPException) as err:
            self._discard(conn)
            raise APIConnectionError(self._connection_message(method, target)) from err
        try:
            # The body is read under the same deadline: a server that stalls mid-body is a timeout too.
            chunks: List[bytes] = []
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise socket.timeout()
                if conn.sock is not None:
                    conn.sock.settimeout(remaining)
                chunk = resp.read(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout as err:
            self._discard(conn)
            raise APITimeoutError(f"request timed out after {timeout:g} s") from err
        except (OSError, http.client.HTTPException) as err:
            self._discard(conn)
            raise APIConnectionError(self._connection_message(method, target)) from err
        headers_out = {k.lower(): v for k, v in resp.getheaders()}
        if resp.will_close:
            self._discard(conn)
        else:
            self._local.conn = (conn, time.monotonic())
        return _Response(resp.status, headers_out, b"".join(chunks))

    def _connection_message(self, method: str, target: str) -> str:
        origin = f"{self._scheme}://{self._host}" + (f":{self._port}" if self._port else "")
        return f"could not reach CertusOrdo at {origin} ({method} {target.split('?', 1)[0]})"

    def close(self) -> None:
        """Closes this thread's connection (other threads' connections close when they are collected)."""
        pool = getattr(self._local, "conn", None)
        if pool is not None:
            pool[0].close()
            self._local.conn = None


def _iso(value: Any) -> str:
    from datetime import datetime, timezone

    if isinstance(value, datetime):
        aware = value if value.utcoffset() is not None else value.astimezone()
        return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _parse_body(body: bytes, headers: Mapping[str, str]) -> Any:
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    if "json" not in headers.get("content-type", ""):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return _INVALID_JSON


def new_id() -> str:
    return str(uuid.uuid4())
