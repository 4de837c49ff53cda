"""The admin client: ``CertusOrdoClient(api_key=...)``."""
from __future__ import annotations

from typing import Callable, Mapping, Optional

from ._env import read_env, resolve_base_url
from ._mappers import to_introspection
from ._transport import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, RequestOptions, Transport
from .errors import CertusOrdoError
from .resources import Agents, ApiKeys, AuditEvents, Sessions
from .types import TokenIntrospection

__all__ = ["CertusOrdoClient"]


class CertusOrdoClient:
    """Admin client of the CertusOrdo control plane.

    ``api_key`` defaults to ``CERTUSORDO_API_KEY``; ``base_url`` to ``CERTUSORDO_ENDPOINT``, then
    ``http://127.0.0.1:8080`` (the server's default address). ``timeout`` is per attempt, in seconds;
    ``max_retries`` applies to connection errors, timeouts, 408, 429 and 5xx. ``sleep`` is the
    function that waits between retries (tests pass a recorder).

    Use it as a context manager, or call :meth:`close`, to close its keep-alive connection.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        *,
        default_headers: Optional[Mapping[str, str]] = None,
        sleep: Optional[Callable[[float], None]] = None,
    ) -> None:
        key = api_key if api_key is not None else read_env("CERTUSORDO_API_KEY")
        if not key:
            raise CertusOrdoError("no API key: pass api_key or set CERTUSORDO_API_KEY", code="invalid_configuration")
        self._transport = Transport(
            resolve_base_url(base_url), api_key=key, timeout=timeout, max_retries=max_retries, default_headers=default_headers, sleep=sleep
        )
        self.base_url = self._transport.base_url
        self.agents = Agents(self._transport)
        self.api_keys = ApiKeys(self._transport)
        self.audit_events = AuditEvents(self._transport)
        self.sessions = Sessions(self._transport)

    def introspect(self, token: str, *, options: Optional[RequestOptions] = None) -> TokenIntrospection:
        """RFC 7662 introspection: asks the control plane, so it sees revocations, suspensions and
        session limits at once (compare ``verify_access_token``, which checks locally)."""
        wire = self._transport.request("POST", "/v1/oauth/introspect", form=[("token", token)], options=options)
        return to_introspection(wire)

    def revoke_token(self, token: str, *, options: Optional[RequestOptions] = None) -> None:
        """RFC 7009 revocation with this client's key (``operator`` or ``admin``). Returns for unknown,
        expired or foreign tokens too, as the RFC requires."""
        self._transport.request("POST", "/v1/oauth/revoke", form=[("token", token)], options=options)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "CertusOrdoClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CertusOrdoClient(base_url={self.base_url!r})"
