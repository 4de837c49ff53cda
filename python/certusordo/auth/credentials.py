"""Agent side: OAuth 2.0 client credentials with a ``private_key_jwt`` client assertion (RFC 7523)
signed by the agent's Ed25519 key — or, for a secretless agent (federated credentials), its
workload's platform token — token caching, and bounded sessions.

    creds = AgentCredentials.from_secret(os.environ["AGENT_SECRET"])
    k8s = AgentCredentials.from_token_file(agent_id, "/var/run/secrets/certusordo/token")  # re-read per request
    token = creds.get_token(scopes=["payments:read"])                        # cached, refreshed early
    for_payments = creds.get_token(resource="https://payments.internal/")   # aud = that service

Sender-constrained (DPoP, RFC 9449) with one option: ``dpop=True`` binds every token to the
agent's own key (or ``dpop=generate_dpop_key()`` to a separate one); each request then carries a
fresh proof, and ``auth_headers(method, url, resource=...)`` returns both headers for a call you
make yourself.

A token without ``resource`` is the control plane's (``aud`` = the organization's issuer), so
``auth_headers`` and ``request`` use one only for URLs on the control plane's own origin; any other
service needs ``resource=`` (a token issued for it alone) or an ``access_token=`` you chose.
"""
from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

from .._env import resolve_base_url
from .._mappers import defined, to_access_token, to_opened_session, to_session
from .._transport import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, RequestOptions, Transport, encode_path
from ..types import AccessToken, OpenedSession, Session
from ..errors import CertusOrdoError
from .dpop import DpopKey, create_dpop_proof, dpop_key_from_seed
from .dpop_nonce import is_dpop_nonce_value
from .keys import jwk_thumbprint, parse_agent_secret, public_key_from_private_key, sign_jwt

__all__ = ["AgentCredentials", "CLIENT_ASSERTION_TYPE", "ServiceResponse"]

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 60
#: RFC 8693 token exchange (model/delegation.ts).
TOKEN_EXCHANGE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
DEFAULT_REFRESH_MARGIN_SECONDS = 30.0

StrOrList = Union[str, Sequence[str], None]


def _normalize_scopes(scopes: StrOrList) -> str:
    items = scopes.split() if isinstance(scopes, str) else list(scopes or [])
    return " ".join(sorted({s for s in items if s}))


def _normalize_resources(resource: StrOrList) -> List[str]:
    items = [resource] if isinstance(resource, str) else list(resource or [])
    return list(dict.fromkeys(items))  # distinct, in the caller's order (the order of `aud`)


@dataclass(frozen=True)
class ServiceResponse:
    """A service's answer to ``AgentCredentials.request``: status, headers (lower-case names), body."""

    status: int
    headers: Dict[str, str]
    body: bytes


_MAX_SERVICE_NONCES = 1000


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> str:
    """``scheme://host[:port]`` compared the way origins are (RFC 6454): scheme and host in any
    case, a default port written or not, user info and path ignored. A URL whose port does not
    parse keeps its raw authority, which then matches no well-formed origin."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return f"{scheme}://{parts.netloc.lower()}"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6, bracketed as in a URL
    return f"{scheme}://{host}" if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{scheme}://{host}:{port}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hands a 3xx back instead of following it. urllib's default handler re-sends every header,
    ``Authorization`` and ``DPoP`` included, to whatever host the ``Location`` names (https to http
    too); and a proof names the method and URL it was made for, so no hop could reuse it anyway."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # the 3xx then reaches the caller as an HTTPError: an answer like any other


class AgentCredentials:
    """An agent's identity: gets access tokens, opens and ends sessions, gives up tokens.

    Thread-safe: concurrent callers asking for the same scopes and resources share one token
    request. ``clock`` (seconds since the epoch) decides when a cached token is refreshed (tests
    inject one; client assertions always carry the real time, which the server checks).
    """

    def __init__(
        self,
        agent_id: str,
        private_key: Optional[bytes] = None,
        *,
        platform_token: Optional[Callable[[], str]] = None,
        base_url: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Optional[Callable[[float], None]] = None,
        dpop: Union[bool, DpopKey, None] = None,
    ) -> None:
        if (private_key is None) == (platform_token is None):
            raise TypeError("give either private_key (the 32-byte Ed25519 seed) or platform_token (a function returning the platform token)")
        if private_key is not None and len(private_key) != 32:
            raise TypeError("private_key must be the 32-byte Ed25519 seed")
        self.agent_id = agent_id
        self._private_key = bytes(private_key) if private_key is not None else None
        self._platform_token = platform_token
        self._transport = Transport(resolve_base_url(base_url), api_key=None, timeout=timeout, max_retries=max_retries, sleep=sleep)
        self.base_url = self._transport.base_url
        self._base_origin = _origin(self.base_url)
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._kid: Optional[str] = None
        self._cache: Dict[Tuple[str, Tuple[str, ...]], AccessToken] = {}
        self._locks: Dict[Tuple[str, Tuple[str, ...]], threading.Lock] = {}
        self._guard = threading.Lock()
        #: The DPoP key when tokens are sender-constrained: ``dpop=True`` is the agent's own key.
        self._dpop_key: Optional[DpopKey] = dpop_key_from_seed(self._private_key) if dpop is True else (dpop or None)
        #: The token endpoint's latest DPoP nonce.
        self._token_endpoint_nonce: Optional[str] = None
        #: The latest DPoP nonce each service's origin sent to ``request`` (RFC 9449 §9), bounded.
        self._service_nonces: Dict[str, str] = {}

    @classmethod
    def from_secret(cls, secret: str, **kwargs) -> "AgentCredentials":  # type: ignore[no-untyped-def]
        """From the ``cos_<agent id>_<seed>`` secret returned when the agent (or a key) was created."""
        agent_id, private_key = parse_agent_secret(secret)
        return cls(agent_id, private_key, **kwargs)

    @classmethod
    def from_key(cls, agent_id: str, private_key: bytes, **kwargs) -> "AgentCredentials":  # type: ignore[no-untyped-def]
        """From a key you generated yourself (``generate_agent_key_pair``) and registered as ``public_key``."""
        return cls(agent_id, private_key, **kwargs)

    @classmethod
    def from_platform_token(cls, agent_id: str, platform_token: Callable[[], str], **kwargs) -> "AgentCredentials":  # type: ignore[no-untyped-def]
        """A secretless agent: ``platform_token()`` returns its workload's platform token (GitHub Actions
        OIDC, a Kubernetes projected token, a SPIFFE JWT-SVID), called again for every token request."""
        return cls(agent_id, platform_token=platform_token, **kwargs)

    @classmethod
    def from_token_file(cls, agent_id: str, path: str, **kwargs) -> "AgentCredentials":  # type: ignore[no-untyped-def]
        """A secretless agent whose platform token is in a file the platform rewrites (a Kubernetes
        projected token rotates at ~80 % of its lifetime): the file is read again for every token request."""

        def read() -> str:
            with open(path, "r", encoding="utf-8") as f:
                return f.read()

        return cls(agent_id, platform_token=read, **kwargs)

    @property
    def kid(self) -> str:
        """The key id (RFC 7638 thumbprint) sent in the assertion header."""
        if self._private_key is None:
            raise TypeError("a secretless agent (platform token) has no key")
        if self._kid is None:
            self._kid = jwk_thumbprint(public_key_from_private_key(self._private_key))
        return self._kid

    def get_token(self, scopes: StrOrList = None, *, resource: StrOrList = None, force_refresh: bool = False) -> str:
        """A bearer access token, from the cache while it has more than ``refresh_margin`` seconds left.

        ``scopes``: a subset of the agent's scopes (list or space-separated; default: all of them).
        ``resource``: the service(s) the token is for (RFC 8707); its ``aud`` is then that URI.
        """
        return self.get_access_token(scopes, resource=resource, force_refresh=force_refresh).access_token

    def get_access_token(self, scopes: StrOrList = None, *, resource: StrOrList = None, force_refresh: bool = False) -> AccessToken:
        """Like ``get_token``, with the expiry and the granted scope."""
        scope = _normalize_scopes(scopes)
        resources = _normalize_resources(resource)
        key = (scope, tuple(sorted(resources)))
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            cached = self._cache.get(key)
            if not force_refresh and cached is not None and cached.expires_at.timestamp() - self._refresh_margin > self._clock():
                return cached
            token = self._request_token(scope, resources)
            self._cache[key] = token
            return token

    def exchange_token(self, subject_token: str, scopes: StrOrList = None, *, resource: StrOrList = None) -> AccessToken:
        """Token exchange (RFC 8693): this agent, listed in the subject agent's ``may_act``, exchanges
        an access token of the subject (received with a call it serves) for a token that acts for
        the subject (``sub`` the subject, ``act.sub`` this agent) instead of passing the subject's
        token on. Scopes: within the subject token's and this agent's (default: all they share).
        Not cached: each subject token gets its own."""
        grant = [
            ("grant_type", TOKEN_EXCHANGE_GRANT_TYPE),
            ("subject_token", subject_token),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
        ]
        return self._request_token(_normalize_scopes(scopes), _normalize_resources(resource), grant)

    @property
    def dpop(self) -> bool:
        """Whether tokens are DPoP-bound (the ``dpop`` option)."""
        return self._dpop_key is not None

    def auth_headers(
        self,
        method: str,
        url: str,
        *,
        scopes: StrOrList = None,
        resource: StrOrList = None,
        access_token: Optional[str] = None,
        nonce: Optional[str] = None,
    ) -> Dict[str, str]:
        """The headers that authorize one request: ``Authorization: Bearer …``, or with DPoP
        ``Authorization: DPoP …`` plus a ``DPoP`` proof for this method and URL (call it again for
        every request, retries included: a proof is single-use). ``access_token``: present this
        token (e.g. a session's) instead of one from ``get_token``; ``nonce``: the resource
        server's ``DPoP-Nonce`` (default: the last one that origin sent to ``request``).

        A ``url`` off the control plane's origin needs ``resource`` (the service's resource
        identifier: the token is issued for it alone) or ``access_token``; without either it is
        refused with ``TypeError`` before any token is requested."""
        if access_token is None:
            self._check_audience(url, resource)
            token = self.get_access_token(scopes, resource=resource)
            value, bound = token.access_token, token.token_type.lower() == "dpop"
        else:
            value, bound = access_token, True
        if self._dpop_key is None or not bound:
            return {"Authorization": f"Bearer {value}"}
        nonce = nonce if nonce is not None else self._service_nonces.get(_origin(url))
        return {"Authorization": f"DPoP {value}", "DPoP": create_dpop_proof(self._dpop_key, method, url, access_token=value, nonce=nonce)}

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Optional[Dict[str, str]] = None,
        body: Optional[bytes] = None,
        scopes: StrOrList = None,
        resource: StrOrList = None,
        access_token: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> ServiceResponse:
        """Calls a service with this agent's token (``auth_headers`` per attempt). A service that asks
        for its DPoP nonce (401 ``use_dpop_nonce`` with a ``DPoP-Nonce`` header) gets the call once
        more with it, and later calls use it. Returns the answer whatever its status. Off the control
        plane's origin, give ``resource`` (or ``access_token``), as for ``auth_headers``.

        Redirects are never followed: a 3xx is returned as it is (its ``location`` header says
        where), so the token and proof go to ``url`` and nowhere else. To follow one, check the
        target is a service this agent should present its token to, then call ``request`` with it
        (a fresh proof for that URL, and a token for its ``resource``)."""
        # Not urlopen: its redirect handler would send the token on to any host a 3xx names.
        opener = urllib.request.build_opener(_NoRedirects)

        def send() -> ServiceResponse:
            all_headers = {**(headers or {}), **self.auth_headers(method, url, scopes=scopes, resource=resource, access_token=access_token)}
            req = urllib.request.Request(url, data=body, headers=all_headers, method=method.upper())
            try:
                with opener.open(req, timeout=timeout) as resp:  # noqa: S310 (the caller's URL)
                    answer = ServiceResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
            except urllib.error.HTTPError as err:
                answer = ServiceResponse(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())
            nonce = answer.headers.get("dpop-nonce")
            if is_dpop_nonce_value(nonce) and self._dpop_key is not None:
                origin = _origin(url)
                if origin not in self._service_nonces and len(self._service_nonces) >= _MAX_SERVICE_NONCES:
                    self._service_nonces.clear()
                self._service_nonces[origin] = nonce
            return answer

        first = send()
        asked = first.status == 401 and 'error="use_dpop_nonce"' in first.headers.get("www-authenticate", "")
        return send() if asked and first.headers.get("dpop-nonce") else first

    def _check_audience(self, url: str, resource: StrOrList) -> None:
        """Refuses to present a control-plane token anywhere else. Its ``aud`` is the organization's
        issuer, so a service that received it could replay it at the control plane as this agent
        (open sessions, revoke its tokens) and at any service that checks no audience: the token
        passthrough that MCP authorization forbids. A token for the service's ``resource``
        (RFC 8707) is accepted by that service alone."""
        if any(_normalize_resources(resource)):
            return
        origin = _origin(url)
        if origin != self._base_origin:
            raise TypeError(
                "Tokens without a resource are for the control plane (aud = the organization's issuer); "
                f"to call {origin}, pass resource=<its resource URL> so the token is issued for it alone, "
                "or access_token= for a token you chose"
            )

    def _authorize(self, method: str, url: str) -> Dict[str, str]:
        return self.auth_headers(method, url)

    def clear_token_cache(self) -> None:
        """Forgets cached tokens (e.g. after a relying service answered 401 to one)."""
        self._cache.clear()

    def open_session(
        self,
        scopes: Sequence[str],
        *,
        ttl_seconds: Optional[int] = None,
        max_operations: Optional[int] = None,
        purpose: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> OpenedSession:
        """Opens a bounded session (scopes ⊆ the agent's, a TTL, an operation budget) and returns it
        with its own access token. ``session.end()`` — or ``with creds.open_session(...) as s:`` —
        ends it when the work is done."""
        wire = self._transport.request(
            "POST",
            "/v1/sessions",
            json_body=defined(scopes=list(scopes), ttl_seconds=ttl_seconds, max_operations=max_operations, purpose=purpose),
            bearer="",
            authorize=self._authorize,
            idempotent=True,
            options=options,
        )
        return to_opened_session(wire, self)

    def renew_session_token(self, session_id: str, *, options: Optional[RequestOptions] = None) -> OpenedSession:
        """A new token for one of this agent's open sessions. A session's token expires with the access
        token it was minted from at the latest, while the session may last longer: renew it before its
        ``exp``. The new token is minted from this agent's current access token (``get_token``) and
        bounded by it; a session that is over is refused (``ForbiddenError``, e.g. its opener was revoked)."""
        wire = self._transport.request(
            "POST", encode_path("/v1/sessions/{}/token", session_id), bearer=self.get_token, options=options
        )
        return to_opened_session(wire, self)

    def get_session(self, session_id: str, *, options: Optional[RequestOptions] = None) -> Session:
        """One of this agent's own sessions (another agent's is a ``NotFoundError``)."""
        wire = self._transport.request("GET", encode_path("/v1/sessions/{}", session_id), bearer="", authorize=self._authorize, options=options)
        return to_session(wire)

    def end_session(self, session_id: str, *, options: Optional[RequestOptions] = None) -> Session:
        """Ends one of this agent's sessions (idempotent): its token stops working at once."""
        wire = self._transport.request("DELETE", encode_path("/v1/sessions/{}", session_id), bearer="", authorize=self._authorize, options=options)
        return to_session(wire)

    def revoke_token(self, token: Optional[str] = None, *, options: Optional[RequestOptions] = None) -> None:
        """Gives up a token (RFC 7009) — holding it is the proof, so no credential is sent — and drops
        it from the cache. Without an argument, revokes every cached token."""
        tokens = [token] if token is not None else list(dict.fromkeys(t.access_token for t in self._cache.values()))
        for t in tokens:
            self._transport.request("POST", "/v1/oauth/revoke", form=[("token", t)], bearer="", options=options)
            for key, cached in list(self._cache.items()):
                if cached.access_token == t:
                    del self._cache[key]

    def create_client_assertion(self, now: Optional[float] = None) -> str:
        """The client assertion JWT (RFC 7523 §3) — signed with the agent's key, or the platform token as
        it reads now — for callers that talk to the token endpoint themselves."""
        if self._platform_token is not None:
            return self._platform_token().strip()
        # The server checks iat/exp against its own clock: the assertion always uses the real time
        # (the injectable `clock` only decides when a cached token is refreshed).
        iat = int(time.time() if now is None else now)
        return sign_jwt(
            {"alg": "EdDSA", "typ": "JWT", "kid": self.kid},
            {
                "iss": self.agent_id,
                "sub": self.agent_id,
                "aud": self._transport.url("/v1/oauth/token"),
                "jti": str(uuid.uuid4()),
                "iat": iat,
                "exp": iat + ASSERTION_LIFETIME_SECONDS,
            },
            self._private_key,  # type: ignore[arg-type]
        )

    def _request_token(self, scope: str, resources: List[str], grant: Optional[List[Tuple[str, str]]] = None) -> AccessToken:
        def form() -> List[Tuple[str, str]]:
            # Called per attempt, so each retry signs a fresh assertion (new jti): replays are refused.
            pairs = list(grant or [("grant_type", "client_credentials")])
            if self._platform_token is not None:
                # A platform token names its workload, not the agent: client_id says which agent.
                pairs.append(("client_id", self.agent_id))
            pairs += [
                ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                ("client_assertion", self.create_client_assertion()),
            ]
            if scope:
                pairs.append(("scope", scope))
            pairs += [("resource", r) for r in resources]
            return pairs

        key = self._dpop_key

        def proof(method: str, url: str) -> Dict[str, str]:
            return {} if key is None else {"DPoP": create_dpop_proof(key, method, url, nonce=self._token_endpoint_nonce)}

        def remember(headers: Mapping[str, str]) -> None:
            # Every answer may carry the server's newest nonce (RFC 9449 §8.2): the next proof uses it.
            nonce = headers.get("dpop-nonce")
            if key is not None and is_dpop_nonce_value(nonce):
                self._token_endpoint_nonce = nonce

        sent = self._token_endpoint_nonce
        try:
            wire = self._transport.request("POST", "/v1/oauth/token", form=form, bearer="", authorize=proof, on_response=remember)
        except CertusOrdoError as err:
            # RFC 9449 §8: the server wants its nonce in the proof; it sent a new one, so try once more with it.
            nonce = err.headers.get("dpop-nonce") if err.code == "use_dpop_nonce" else None
            if not is_dpop_nonce_value(nonce) or nonce == sent:
                raise
            self._token_endpoint_nonce = nonce
            wire = self._transport.request("POST", "/v1/oauth/token", form=form, bearer="", authorize=proof, on_response=remember)
        return to_access_token(wire, self._clock())

    def close(self) -> None:
        self._transport.close()

    def __repr__(self) -> str:
        return f"AgentCredentials(agent_id={self.agent_id!r}, base_url={self.base_url!r})"
