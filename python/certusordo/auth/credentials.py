"""Agent side: OAuth 2.0 client credentials with a ``private_key_jwt`` client assertion (RFC 7523)
signed by the agent's Ed25519 key, token caching, and bounded sessions.

    creds = AgentCredentials.from_secret(os.environ["AGENT_SECRET"])
    token = creds.get_token(scopes=["payments:read"])                        # cached, refreshed early
    for_payments = creds.get_token(resource="https://payments.internal/")   # aud = that service
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from .._env import resolve_base_url
from .._mappers import defined, to_access_token, to_opened_session, to_session
from .._transport import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, RequestOptions, Transport, encode_path
from ..types import AccessToken, OpenedSession, Session
from .keys import jwk_thumbprint, parse_agent_secret, public_key_from_private_key, sign_jwt

__all__ = ["AgentCredentials", "CLIENT_ASSERTION_TYPE"]

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


class AgentCredentials:
    """An agent's identity: gets access tokens, opens and ends sessions, gives up tokens.

    Thread-safe: concurrent callers asking for the same scopes and resources share one token
    request. ``clock`` (seconds since the epoch) decides when a cached token is refreshed (tests
    inject one; client assertions always carry the real time, which the server checks).
    """

    def __init__(
        self,
        agent_id: str,
        private_key: bytes,
        *,
        base_url: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Optional[Callable[[float], None]] = None,
    ) -> None:
        if len(private_key) != 32:
            raise TypeError("private_key must be the 32-byte Ed25519 seed")
        self.agent_id = agent_id
        self._private_key = bytes(private_key)
        self._transport = Transport(resolve_base_url(base_url), api_key=None, timeout=timeout, max_retries=max_retries, sleep=sleep)
        self.base_url = self._transport.base_url
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._kid: Optional[str] = None
        self._cache: Dict[Tuple[str, Tuple[str, ...]], AccessToken] = {}
        self._locks: Dict[Tuple[str, Tuple[str, ...]], threading.Lock] = {}
        self._guard = threading.Lock()

    @classmethod
    def from_secret(cls, secret: str, **kwargs) -> "AgentCredentials":  # type: ignore[no-untyped-def]
        """From the ``cos_<agent id>_<seed>`` secret returned when the agent (or a key) was created."""
        agent_id, private_key = parse_agent_secret(secret)
        return cls(agent_id, private_key, **kwargs)

    @classmethod
    def from_key(cls, agent_id: str, private_key: bytes, **kwargs) -> "AgentCredentials":  # type: ignore[no-untyped-def]
        """From a key you generated yourself (``generate_agent_key_pair``) and registered as ``public_key``."""
        return cls(agent_id, private_key, **kwargs)

    @property
    def kid(self) -> str:
        """The key id (RFC 7638 thumbprint) sent in the assertion header."""
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
            bearer=self.get_token,
            idempotent=True,
            options=options,
        )
        return to_opened_session(wire, self)

    def get_session(self, session_id: str, *, options: Optional[RequestOptions] = None) -> Session:
        """One of this agent's own sessions (another agent's is a ``NotFoundError``)."""
        wire = self._transport.request("GET", encode_path("/v1/sessions/{}", session_id), bearer=self.get_token, options=options)
        return to_session(wire)

    def end_session(self, session_id: str, *, options: Optional[RequestOptions] = None) -> Session:
        """Ends one of this agent's sessions (idempotent): its token stops working at once."""
        wire = self._transport.request("DELETE", encode_path("/v1/sessions/{}", session_id), bearer=self.get_token, options=options)
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
        """The client assertion JWT (RFC 7523 §3), for callers that talk to the token endpoint themselves."""
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
            self._private_key,
        )

    def _request_token(self, scope: str, resources: List[str], grant: Optional[List[Tuple[str, str]]] = None) -> AccessToken:
        def form() -> List[Tuple[str, str]]:
            # Called per attempt, so each retry signs a fresh assertion (new jti): replays are refused.
            pairs = [
                *(grant or [("grant_type", "client_credentials")]),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                ("client_assertion", self.create_client_assertion()),
            ]
            if scope:
                pairs.append(("scope", scope))
            pairs += [("resource", r) for r in resources]
            return pairs

        wire = self._transport.request("POST", "/v1/oauth/token", form=form, bearer="")
        return to_access_token(wire, self._clock())

    def close(self) -> None:
        self._transport.close()

    def __repr__(self) -> str:
        return f"AgentCredentials(agent_id={self.agent_id!r}, base_url={self.base_url!r})"
