"""The resource-server kit: accept CertusOrdo agents in any HTTP API, framework-neutral.

``ResourceServer(issuer=…, resource=…, scopes=[…], introspection={"api_key": …})`` checks the
``Authorization`` header of a request with ``check(header, method=…, url=…, dpop=…)`` and returns an ``AccessDecision``: the
verified token, or the RFC 6750 answer to send (status, ``WWW-Authenticate`` naming this resource's
RFC 9728 metadata, JSON body). Any framework maps that in a few lines.

The checks, in order: the header (``Bearer <token>`` or ``DPoP <token>``),
``verify_access_token`` (signature, ``typ``, the pinned issuer, expiry, and the audience: this
resource, one trailing slash aside, as the MCP SDKs compare it), the sender constraint (RFC 9449:
a DPoP-bound token passes only as ``DPoP`` with a proof for this request's ``method`` and ``url``,
signed by its key, never replayed; without ``method`` and ``url`` it is refused; ``require_dpop``
refuses bearer tokens), then with ``introspection`` the control plane's word
(a suspension or revocation refuses the next call once a cached answer, at most 1 s old, is gone,
and so does a scope taken from the agent or an actor of its chain; an unreachable control plane
refuses with 503, never accepts), then the scopes.
"""
from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

from .._datetime import UTCDateTime
from ..client import CertusOrdoClient
from ..errors import CertusOrdoError, TokenVerificationError
from .dpop import DPOP_SIGNING_ALGS, DpopReplayCache, verify_dpop_presentation
from .dpop_nonce import DpopNonceSource, dpop_nonce_source, is_dpop_nonce_value
from .verify import JWKSCache, verify_access_token

__all__ = [
    "ResourceServer",
    "AccessDecision",
    "AgentTokenRefusal",
    "VerifiedAgentToken",
    "protected_resource_metadata",
    "protected_resource_metadata_url",
]

# model/limits.ts INTROSPECTION_CACHE_*: an answer is reused at most 1 s (default 0.5 s), 1000 tokens.
MAX_INTROSPECTION_CACHE_TTL = 1.0

_STATUS = {
    "missing_token": 401, "invalid_request": 400, "invalid_token": 401, "insufficient_scope": 403, "temporarily_unavailable": 503,
    "invalid_dpop_proof": 401, "use_dpop_nonce": 401,
}
_DPOP_ERRORS = ("invalid_dpop_proof", "use_dpop_nonce")
_TOKEN68 = re.compile(r"^([A-Za-z][A-Za-z0-9-]*) +([A-Za-z0-9\-._~+/]+=*) *$")
_NOT_ACTIVE = "The access token is no longer active (revoked, agent suspended, or session ended)"


def _check_resource(resource: Any) -> str:
    if not isinstance(resource, str):
        raise TypeError("resource must be this server's absolute URL (e.g. https://tools.example.com/mcp)")
    u = urlsplit(resource)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise TypeError("resource must be this server's absolute http(s) URL (e.g. https://tools.example.com/mcp)")
    if "#" in resource:
        raise TypeError("resource must not contain a fragment (RFC 8707)")
    return resource


def _audiences(resource: str) -> List[str]:
    bare = resource[:-1] if resource.endswith("/") else resource
    return [bare, bare + "/"]


def protected_resource_metadata(
    resource: str, *, issuer: str, scopes_supported: Optional[Sequence[str]] = None, resource_name: Optional[str] = None, require_dpop: bool = False
) -> Dict[str, Any]:
    """The RFC 9728 document of ``resource``, naming the organization's issuer as its one authorization server."""
    doc: Dict[str, Any] = {
        "resource": _check_resource(resource), "authorization_servers": [issuer], "bearer_methods_supported": ["header"],
        "dpop_signing_alg_values_supported": list(DPOP_SIGNING_ALGS),
    }
    if require_dpop:
        doc["dpop_bound_access_tokens_required"] = True
    if scopes_supported is not None:
        doc["scopes_supported"] = list(scopes_supported)
    if resource_name is not None:
        doc["resource_name"] = resource_name
    return doc


def protected_resource_metadata_url(resource: str) -> str:
    """Where the document is served (RFC 9728 §3.1): ``https://h/mcp`` → ``https://h/.well-known/oauth-protected-resource/mcp``."""
    u = urlsplit(_check_resource(resource))
    path = "" if u.path in ("", "/") else u.path
    return f"{u.scheme}://{u.netloc}/.well-known/oauth-protected-resource{path}"


class AgentTokenRefusal(CertusOrdoError):
    """Why a request is refused, as RFC 6750 §3.1 names it. ``code``: ``missing_token``,
    ``invalid_request``, ``invalid_token``, ``insufficient_scope`` (``scope`` names those missing),
    ``temporarily_unavailable``, or RFC 9449's ``invalid_dpop_proof`` and ``use_dpop_nonce``.
    ``scheme`` is the challenge's: ``dpop`` for proof failures and tokens that need DPoP. Messages
    never contain the token."""

    default_code = "invalid_token"

    def __init__(self, code: str, message: str, *, scope: Optional[str] = None, scheme: Optional[str] = None, dpop_nonce: Optional[str] = None) -> None:
        super().__init__(message, status=_STATUS[code], code=code)
        self.scope = scope
        #: For ``use_dpop_nonce``: the nonce the client's next proof must carry (the ``DPoP-Nonce`` header).
        self.dpop_nonce = dpop_nonce
        self.scheme = scheme or ("dpop" if code in _DPOP_ERRORS else "bearer")

    def body(self) -> Dict[str, str]:
        return {"error": "invalid_token" if self.code == "missing_token" else self.code, "error_description": self.message}


def _quoted(value: str) -> str:
    # RFC 6750 §3 allows no '"' or '\\' (nor anything outside printable ASCII) in its values.
    value = value.replace('"', "'")
    return '"' + "".join(c for c in value if 0x20 <= ord(c) <= 0x7E and c != "\\") + '"'


def www_authenticate(refusal: AgentTokenRefusal, resource_metadata_url: str) -> Optional[str]:
    """The challenge for a refusal (none for ``temporarily_unavailable``, which is no challenge)."""
    if refusal.code == "temporarily_unavailable":
        return None
    params: List[str] = []
    if refusal.code != "missing_token":
        params += [f"error={_quoted(refusal.code)}", f"error_description={_quoted(refusal.message)}"]
    if refusal.scope:
        params.append(f"scope={_quoted(refusal.scope)}")
    params.append(f"resource_metadata={_quoted(resource_metadata_url)}")
    if refusal.scheme == "dpop":
        # RFC 9449 §7.1: a DPoP challenge names the proof algorithms this server verifies.
        return "DPoP " + ", ".join(params + [f"algs={_quoted(' '.join(DPOP_SIGNING_ALGS))}"])
    return "Bearer " + ", ".join(params)


def credentials_of(authorization: Optional[str], missing_scheme: str = "bearer") -> Tuple[str, str]:
    """The scheme (``bearer`` or ``dpop``) and token of an Authorization header; other forms are refused."""
    usage = "The Authorization header must be: Bearer <token> or DPoP <token>"
    if authorization is None or not authorization.strip():
        raise AgentTokenRefusal("missing_token", "Send an agent access token: Authorization: Bearer <token> (or DPoP <token> with a DPoP proof)", scheme=missing_scheme)
    m = _TOKEN68.match(authorization)
    if not m:
        raise AgentTokenRefusal("invalid_request", usage)
    scheme = m.group(1).lower()
    if scheme not in ("bearer", "dpop"):
        raise AgentTokenRefusal("invalid_request", usage)
    return scheme, m.group(2)


@dataclass(frozen=True)
class VerifiedAgentToken:
    """An agent's token, accepted for this resource. ``delegation`` is the RFC 8693 ``act`` claim, when present."""

    agent_id: str
    organization_id: Optional[str]
    session_id: Optional[str]
    #: The scopes the token holds: those it was signed with or, with ``introspection``, those the
    #: control plane says it holds now (narrower when a scope was removed from the agent or an actor).
    scopes: List[str]
    expires_at: UTCDateTime
    resource: str
    delegation: Optional[Dict[str, Any]]
    claims: Dict[str, Any]
    #: A delegated token's actors, first to current (the agent making this call last); [] for the
    #: agent's own token. ``agent_id`` is the subject represented.
    actors: List[str] = field(default_factory=list)
    #: For a DPoP-bound token: the thumbprint of the key its proof was checked against (``cnf.jkt``)
    #: and the proof's ``jti``, which replicas sharing a jti store record (docs/auth.md, DPoP).
    dpop_jkt: Optional[str] = None
    dpop_jti: Optional[str] = None
    #: With ``dpop_nonce``: a newer nonce than the proof's (its window has passed), for the answer's
    #: ``DPoP-Nonce`` header (``check`` puts it in ``headers``); None while the proof's is current.
    dpop_next_nonce: Optional[str] = None


@dataclass(frozen=True)
class AccessDecision:
    """What to do with a request: ``ok`` with ``token``, or answer ``status`` with ``headers`` and ``body``.
    ``headers`` also go on an accepted request's answer (a ``DPoP-Nonce`` when the nonce has moved on)."""

    ok: bool
    status: int
    headers: Dict[str, str]
    body: Optional[Dict[str, str]]
    token: Optional[VerifiedAgentToken]
    refusal: Optional[AgentTokenRefusal]


#: The control plane's answer: active, and the scopes the token holds now (None: the answer named none).
_Verdict = Tuple[bool, Optional[Tuple[str, ...]]]


class _Introspection:
    """The control plane's verdict per token, remembered for ``ttl`` seconds in a bounded LRU."""

    def __init__(self, base_url: str, api_key: str, ttl: float, max_entries: int, timeout: float, now: Callable[[], float]) -> None:
        if not isinstance(api_key, str) or not api_key:
            raise TypeError('introspection needs {"api_key": <an introspector API key of the organization>}')
        if not 0 <= ttl <= MAX_INTROSPECTION_CACHE_TTL:
            raise TypeError(f"cache_ttl must be 0-{MAX_INTROSPECTION_CACHE_TTL} seconds")
        # No retries: the resource server answers its caller now; the caller retries a refused call.
        self._client = CertusOrdoClient(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
        self._ttl = ttl
        self._max = max(1, max_entries)
        self._now = now
        self._lock = threading.Lock()
        self._answers: "OrderedDict[str, Tuple[_Verdict, float]]" = OrderedDict()

    def verdict(self, token: str, key: str) -> Optional[_Verdict]:
        """(active, scopes): the control plane's answer, ``scopes`` what the token holds now (a scope
        removed from the agent, or from an actor of its chain, is gone from its live tokens at once);
        None: no usable answer (never remembered)."""
        now = self._now()
        with self._lock:
            known = self._answers.get(key)
            if known and known[1] > now:
                return known[0]
        try:
            answer = self._client.introspect(token)
        except CertusOrdoError:
            return None
        active = answer.active is True
        scopes = tuple(s for s in answer.scope.split(" ") if s) if active and answer.scope is not None else None
        verdict: _Verdict = (active, scopes)
        if self._ttl > 0:
            with self._lock:
                self._answers.pop(key, None)
                while len(self._answers) >= self._max:
                    self._answers.popitem(last=False)
                self._answers[key] = (verdict, self._now() + self._ttl)
        return verdict

    def __len__(self) -> int:
        return len(self._answers)


def _covers(granted: Sequence[str], requested: str) -> bool:
    # The model's rule (model/scope.ts scopeCovers): `resource:*` grants every action on the resource.
    return requested in granted or f"{requested.split(':')[0]}:*" in granted


def _describe(err: TokenVerificationError) -> str:
    if "\"aud\"" in err.message:
        return "The token was not issued for this resource: request it with resource=<this server's URL>"
    if "\"iss\"" in err.message:
        return "The token was not issued by this organization's issuer"
    if err.code == "ERR_JWT_EXPIRED":
        return "The token has expired"
    return f"The access token is invalid: {err.message}"


def _issuer_base_url(issuer: str) -> str:
    m = re.match(r"^(.+)/orgs/[^/]+$", issuer)
    if not m:
        raise TypeError("an organization issuer has the form <base_url>/orgs/<organization id>")
    return m.group(1)


class ResourceServer:
    """Checks agents' requests to one resource (this server's URL) for one organization's issuer.

    ``introspection``: ``{"api_key": <introspector key>}``, optionally ``cache_ttl`` (seconds,
    default 0.5, at most 1), ``max_cache_entries`` (default 1000), ``timeout`` (default 2) and
    ``base_url`` (default: the issuer's control plane). ``now`` (epoch seconds) drives token expiry
    and the introspection cache, for tests.

    DPoP: ``check``/``verify`` take the request's ``method``, ``url`` (as the client addressed it; a
    path is resolved against ``public_url``, default ``resource``'s origin) and ``dpop`` header.
    ``require_dpop`` refuses bearer tokens. ``dpop_replay_cache`` (default one per instance, bounded)
    remembers proofs' ``jti``s per process: replicas need a shared jti store besides (docs/auth.md).
    ``dpop_nonce`` requires a server nonce in DPoP proofs (RFC 9449 §9): ``{"secret": …}`` (32+
    bytes, the same on every replica; ``window_seconds`` default 60) for stateless HMAC nonces
    (``HmacDpopNonces``), or an object with ``current(now)`` and ``accepts(nonce, now)``. A proof
    without the current (or previous window's) nonce is refused ``use_dpop_nonce`` with a
    ``DPoP-Nonce`` header; bearer tokens carry no proof and are not affected.
    """

    def __init__(
        self,
        *,
        issuer: str,
        resource: str,
        scopes: Sequence[str] = (),
        introspection: Optional[Mapping[str, Any]] = None,
        resource_metadata_url: Optional[str] = None,
        clock_tolerance: float = 5.0,
        timeout: float = 5.0,
        now: Optional[Callable[[], float]] = None,
        jwks_cache: Optional[JWKSCache] = None,
        require_dpop: bool = False,
        public_url: Optional[str] = None,
        dpop_replay_cache: Optional[DpopReplayCache] = None,
        max_delegation_depth: Optional[int] = None,
        dpop_nonce: Union[DpopNonceSource, Mapping[str, Any], None] = None,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise TypeError("ResourceServer needs the issuer of your organization: organization_issuer(base_url, org_id)")
        self.issuer = issuer
        self.resource = _check_resource(resource)
        self.scopes = list(scopes)
        self.resource_metadata_url = resource_metadata_url or protected_resource_metadata_url(resource)
        self._audiences = _audiences(resource)
        self._clock_tolerance = clock_tolerance
        self._timeout = timeout
        self._now = now
        self._jwks_cache = jwks_cache
        self.require_dpop = require_dpop
        self.max_delegation_depth = max_delegation_depth
        origin = urlsplit(public_url or resource)
        if origin.scheme not in ("http", "https") or not origin.netloc:
            raise TypeError("public_url must be an absolute http(s) URL (e.g. https://tools.example.com)")
        self._origin = f"{origin.scheme}://{origin.netloc}"
        self._replay = dpop_replay_cache or DpopReplayCache()
        self._nonces = dpop_nonce_source(dpop_nonce)
        self._introspection: Optional[_Introspection] = None
        if introspection is not None:
            i = dict(introspection)
            self._introspection = _Introspection(
                i.get("base_url") or _issuer_base_url(issuer),
                i.get("api_key", ""),
                float(i.get("cache_ttl", 0.5)),
                int(i.get("max_cache_entries", 1000)),
                float(i.get("timeout", 2.0)),
                now or time.time,
            )

    def metadata(self, *, scopes_supported: Optional[Sequence[str]] = None, resource_name: Optional[str] = None) -> Dict[str, Any]:
        """This resource's RFC 9728 document (serve it at ``resource_metadata_url``)."""
        return protected_resource_metadata(
            self.resource, issuer=self.issuer, scopes_supported=scopes_supported if scopes_supported is not None else self.scopes or None,
            resource_name=resource_name, require_dpop=self.require_dpop,
        )

    def _current_nonce(self, now: float) -> str:
        nonce = self._nonces.current(now)  # type: ignore[union-attr]
        if not is_dpop_nonce_value(nonce):
            raise TypeError('a dpop_nonce source returned a nonce that is not 1-256 printable ASCII characters without " and \\')
        return nonce

    def _sender_constraint(
        self, scheme: str, token: str, jkt: Optional[str], method: Optional[str], url: Optional[str], dpop: Any
    ) -> Tuple[Optional[str], Optional[str]]:
        """Checks the sender constraint; the accepted proof's ``jti`` for a DPoP-bound token, and a
        newer nonce than the proof's when nonces are required and the proof's has aged."""
        if method is None or url is None:
            # A key-bound token is worthless without its proof, which is checked against the request.
            if jkt is not None or scheme == "dpop" or self.require_dpop:
                raise AgentTokenRefusal("invalid_token", "This check was not given the request (method, url) a DPoP proof is checked against", scheme="dpop")
            return None, None
        if self.require_dpop and jkt is None:
            raise AgentTokenRefusal("invalid_token", "This resource requires DPoP-bound tokens: request the token with a DPoP proof", scheme="dpop")
        htu = url if urlsplit(url).scheme else self._origin + (url if url.startswith("/") else "/" + url)
        now = time.time() if self._now is None else self._now()
        nonces = self._nonces
        r = verify_dpop_presentation(
            scheme, token, jkt=jkt, proof=dpop, htm=method.upper(), htu=htu, replay=self._replay, now=now,
            nonce=None if nonces is None else (lambda n: nonces.accepts(n, now)),
        )
        if r.ok:
            current = self._current_nonce(now) if nonces is not None and r.jti is not None else None
            return r.jti, current if current is not None and current != r.nonce else None
        if r.error == "invalid_token":  # a bearer token sent as DPoP: no proof can bind it
            raise AgentTokenRefusal("invalid_token", r.message or "")
        if r.reason == "bearer_scheme":  # a bound token the Bearer scheme cannot carry (RFC 9449 §7.2)
            raise AgentTokenRefusal("invalid_token", r.message or "", scheme="dpop")
        if r.error == "use_dpop_nonce" and nonces is not None:  # RFC 9449 §9: with the nonce to retry with
            raise AgentTokenRefusal("use_dpop_nonce", r.message or "", dpop_nonce=self._current_nonce(now))
        raise AgentTokenRefusal(r.error or "invalid_dpop_proof", r.message or "")

    def verify(
        self, authorization: Optional[str], scopes: Optional[Sequence[str]] = None, *,
        method: Optional[str] = None, url: Optional[str] = None, dpop: Union[str, Sequence[str], None] = None,
    ) -> VerifiedAgentToken:
        """The verified token of a request's Authorization header; raises ``AgentTokenRefusal``.
        ``method``, ``url`` and ``dpop`` (the ``DPoP`` header's value, or values when repeated) are
        what a DPoP proof is checked against."""
        scheme, token = credentials_of(authorization, "dpop" if self.require_dpop else "bearer")
        try:
            v = verify_access_token(
                token, issuer=self.issuer, audience=self._audiences, clock_tolerance=self._clock_tolerance, timeout=self._timeout,
                now=None if self._now is None else self._now(), jwks_cache=self._jwks_cache,
                max_delegation_depth=self.max_delegation_depth,
            )
        except TokenVerificationError as err:
            raise AgentTokenRefusal("invalid_token", _describe(err)) from None
        except CertusOrdoError:
            raise AgentTokenRefusal("temporarily_unavailable", "The issuer's signing keys could not be fetched; retry later") from None
        if "cnf" in v.payload and v.jkt is None:
            raise AgentTokenRefusal("invalid_token", "The token is bound to a key in a form this resource server does not verify")
        dpop_jti, next_nonce = self._sender_constraint(scheme, token, v.jkt, method, url, dpop)
        # verify_access_token checked the act claim's shape and the depth.
        delegation = v.payload.get("act")
        held = v.scopes
        if self._introspection is not None:
            jti = v.payload.get("jti")
            verdict = self._introspection.verdict(token, jti if isinstance(jti, str) else token)
            if verdict is None:
                raise AgentTokenRefusal("temporarily_unavailable", "The control plane could not confirm the token; retry later")
            active, live = verdict
            if not active:
                raise AgentTokenRefusal("invalid_token", _NOT_ACTIVE)
            # What the token holds now: the control plane's answer, never more than the token was signed with.
            if live is not None:
                held = [s for s in live if _covers(v.scopes, s)]
        needed = self.scopes if scopes is None else list(scopes)
        missing = [s for s in needed if not _covers(held, s)]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise AgentTokenRefusal("insufficient_scope", f"The token lacks the scope{plural} this request needs: {' '.join(missing)}", scope=" ".join(missing))
        return VerifiedAgentToken(
            agent_id=v.sub, organization_id=v.organization_id, session_id=v.sid, scopes=held, expires_at=v.expires_at,
            resource=self.resource, delegation=delegation, claims=v.payload, actors=list(v.actors), dpop_jkt=v.jkt, dpop_jti=dpop_jti,
            dpop_next_nonce=next_nonce,
        )

    def check(
        self, authorization: Optional[str], scopes: Optional[Sequence[str]] = None, *,
        method: Optional[str] = None, url: Optional[str] = None, dpop: Union[str, Sequence[str], None] = None,
    ) -> AccessDecision:
        """Like ``verify``, as a decision: the response to send when refused (status, headers, body)."""
        try:
            token = self.verify(authorization, scopes, method=method, url=url, dpop=dpop)
        except AgentTokenRefusal as refusal:
            headers = {"Cache-Control": "no-store", "Content-Type": "application/json"}
            challenge = www_authenticate(refusal, self.resource_metadata_url)
            if challenge:
                headers["WWW-Authenticate"] = challenge
            if refusal.code == "temporarily_unavailable":
                headers["Retry-After"] = "1"
            if refusal.dpop_nonce is not None:
                headers["DPoP-Nonce"] = refusal.dpop_nonce
            return AccessDecision(False, refusal.status or 401, headers, refusal.body(), None, refusal)
        # The proof's nonce has aged into its last window: hand the client the current one (RFC 9449 §8.2).
        return AccessDecision(True, 200, {} if token.dpop_next_nonce is None else {"DPoP-Nonce": token.dpop_next_nonce}, None, token, None)
