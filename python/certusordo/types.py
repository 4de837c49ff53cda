"""The API's objects with attribute access (``agent.id``, ``agent.public_key``, ``agent.last_auth_at``).

Field names are the API's own snake_case names, so the Python objects read like the REST docs.
Times are :class:`~certusordo.UTCDateTime` (see that class for how they mix with naive
datetimes). One-time credentials (``secret``, ``key``, ``access_token``) are left out of ``repr``,
so printing or logging an object never shows them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Optional, Union

from ._datetime import UTCDateTime

if TYPE_CHECKING:  # pragma: no cover
    from .auth.credentials import AgentCredentials

AgentStatus = Literal["active", "suspended", "revoked"]
ApiKeyRole = Literal["admin", "operator", "reader", "introspector"]
SessionStatus = Literal["active", "exhausted", "expired", "ended"]

__all__ = [
    "AgentStatus",
    "ApiKeyRole",
    "SessionStatus",
    "Agent",
    "CreatedAgent",
    "AgentKey",
    "CreatedAgentKey",
    "FederatedCredential",
    "ApiKey",
    "CreatedApiKey",
    "AuditEvent",
    "AuditVerification",
    "AuditCheckpoint",
    "TokenIntrospection",
    "AccessToken",
    "Session",
    "OpenedSession",
    "VerifiedAccessToken",
]


@dataclass(frozen=True)
class Agent:
    """An agent. ``last_auth_at`` is None until it first authenticates."""

    id: str
    name: str
    #: base64url of the 32 raw Ed25519 public-key bytes (the newest active key); None for an agent
    #: that has only federated credentials (no key, no secret).
    public_key: Optional[str]
    scopes: List[str]
    status: AgentStatus
    metadata: Dict[str, str]
    created_at: UTCDateTime
    updated_at: UTCDateTime
    last_auth_at: Optional[UTCDateTime]
    #: Ids of the agents that may act for this one (RFC 8693 token exchange); empty: nobody may.
    may_act: List[str]


@dataclass(frozen=True)
class CreatedAgent(Agent):
    """The create response. ``secret`` (``cos_<agent id>_<seed>``) is returned once, and only when the
    server generated the key (not with your own ``public_key``, and not in an idempotent replay)."""

    secret: Optional[str] = field(default=None, repr=False)


@dataclass(frozen=True)
class AgentKey:
    #: RFC 7638 JWK thumbprint of the public key.
    kid: str
    public_key: str
    status: str
    created_at: UTCDateTime
    revoked_at: Optional[UTCDateTime]


@dataclass(frozen=True)
class CreatedAgentKey(AgentKey):
    secret: Optional[str] = field(default=None, repr=False)


@dataclass(frozen=True)
class FederatedCredential:
    """A workload whose platform token (a JWT of another issuer) authenticates the agent."""

    id: str
    #: The token's ``iss`` (an https URL).
    issuer: str
    #: The token's ``sub``.
    subject: str
    #: A value the token's ``aud`` must contain.
    audience: str
    #: Further top-level claims the token must carry with these JSON values.
    claims: Dict[str, Any]
    #: The issuer's public keys given inline; None: fetched by OpenID discovery.
    jwks: Optional[Dict[str, Any]]
    status: str
    created_at: UTCDateTime
    revoked_at: Optional[UTCDateTime]


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: ApiKeyRole
    #: The first characters of the key, to recognise it.
    prefix: str
    created_at: UTCDateTime
    last_used_at: Optional[UTCDateTime]
    revoked_at: Optional[UTCDateTime]


@dataclass(frozen=True)
class CreatedApiKey(ApiKey):
    """The create response: ``key`` is returned once (empty in an idempotent replay)."""

    key: str = field(default="", repr=False)


@dataclass(frozen=True)
class AuditEvent:
    id: str
    seq: int
    action: str
    actor_type: str
    actor_id: Optional[str]
    target_type: Optional[str]
    target_id: Optional[str]
    outcome: str
    reason: Optional[str]
    request_id: Optional[str]
    client_ip: Optional[str]
    data: Dict[str, Any]
    created_at: UTCDateTime
    hash: str


@dataclass(frozen=True)
class AuditVerification:
    valid: bool
    #: Events whose link this run recomputed (verification resumes from the last verified point).
    events_checked: int
    first_broken_seq: Optional[int]
    reason: Optional[str]
    seq: Optional[int]
    hash: Optional[str]
    #: The verified seq this run resumed from (0: the genesis).
    from_seq: int


@dataclass(frozen=True)
class AuditCheckpoint:
    """The verified head of the audit chain as a compact JWS, verifiable offline with the org's JWKS."""

    checkpoint: str
    org_id: str
    seq: int
    hash: str
    created_at: UTCDateTime


@dataclass(frozen=True)
class TokenIntrospection:
    """RFC 7662 introspection; ``active=False`` carries nothing else. ``raw`` is the response as sent."""

    active: bool
    sub: Optional[str] = None
    scope: Optional[str] = None
    client_id: Optional[str] = None
    exp: Optional[int] = None
    iat: Optional[int] = None
    iss: Optional[str] = None
    aud: Optional[Union[str, List[str]]] = None
    jti: Optional[str] = None
    #: ``DPoP`` for a token bound to a proof key (RFC 9449), else ``Bearer``.
    token_type: Optional[str] = None
    sid: Optional[str] = None
    organization_id: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)
    #: For a DPoP-bound token, the thumbprint of its key (``cnf.jkt``).
    jkt: Optional[str] = None
    #: A delegated token's actors (RFC 8693 ``act``), first actor first; None for an agent's own token.
    actors: Optional[List[str]] = None


@dataclass(frozen=True)
class AccessToken:
    access_token: str = field(repr=False)
    token_type: str
    #: Seconds the token was valid for when issued.
    expires_in: int
    #: Absolute expiry, computed on receipt.
    expires_at: UTCDateTime
    scope: str


@dataclass(frozen=True)
class Session:
    """A bounded session: a subset of the agent's scopes for a limited time and operation budget."""

    id: str
    agent_id: str
    scopes: List[str]
    #: None: no operation budget.
    max_operations: Optional[int]
    operations_used: int
    status: SessionStatus
    purpose: Optional[str]
    created_at: UTCDateTime
    expires_at: UTCDateTime
    ended_at: Optional[UTCDateTime]
    end_reason: Optional[str]


@dataclass(frozen=True)
class OpenedSession(Session):
    """What ``AgentCredentials.open_session`` and ``renew_session_token`` return: the session and,
    only here, a token of its own (it expires with the session or with the access token it was
    minted from, whichever comes first).

    ``session.end()`` ends it early (or use it as a context manager: ``with creds.open_session(...)
    as session:`` ends it on exit).
    """

    access_token: str = field(default="", repr=False)
    _credentials: Optional["AgentCredentials"] = field(default=None, repr=False, compare=False)

    def end(self) -> Session:
        """Ends this session now (idempotent): its token stops working, ``end_reason`` ``ended_by_agent``."""
        if self._credentials is None:
            raise RuntimeError("this session is not bound to AgentCredentials; use client.sessions.end(id)")
        return self._credentials.end_session(self.id)

    def __enter__(self) -> "OpenedSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()


@dataclass(frozen=True)
class VerifiedAccessToken:
    """What ``verify_access_token`` returns for a valid token."""

    #: The agent id: the agent the token represents (for a delegated token, the one acted for).
    sub: str
    scopes: List[str]
    client_id: Optional[str]
    sid: Optional[str]
    organization_id: Optional[str]
    #: The token's ``aud`` as a list.
    audience: List[str]
    expires_at: UTCDateTime
    payload: Dict[str, Any] = field(repr=False)
    #: For a DPoP-bound token, the thumbprint of its key (``cnf.jkt``): accept it only with a proof
    #: by that key (``verify_dpop_presentation``). None for a bearer token.
    jkt: Optional[str] = None
    #: A delegated token's actors (RFC 8693 ``act``): the first actor first, the current actor (the
    #: agent making the call) last; empty when the agent itself holds the token.
    actors: List[str] = field(default_factory=list)
    #: The agent making the call: the current actor of a delegated token, else ``sub``.
    actor: str = ""
