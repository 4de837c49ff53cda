"""Wire JSON → typed objects, in one place (like the TS SDK's internal/mappers.ts)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Union

from ._datetime import UTCDateTime, parse_optional, parse_timestamp
from ._delegation import actor_chain
from .types import (
    AccessToken,
    Agent,
    AgentKey,
    ApiKey,
    AuditCheckpoint,
    AuditEvent,
    AuditVerification,
    CreatedAgent,
    CreatedAgentKey,
    CreatedApiKey,
    FederatedCredential,
    OpenedSession,
    Session,
    TokenIntrospection,
)

Wire = Dict[str, Any]


def _agent_fields(w: Wire) -> Dict[str, Any]:
    return dict(
        id=w["id"],
        name=w["name"],
        public_key=w["public_key"],
        scopes=list(w.get("scopes") or []),
        status=w["status"],
        metadata=dict(w.get("metadata") or {}),
        created_at=parse_timestamp(w["created_at"]),
        updated_at=parse_timestamp(w["updated_at"]),
        last_auth_at=parse_optional(w.get("last_auth_at")),
        may_act=list(w.get("may_act") or []),
    )


def to_agent(w: Wire) -> Agent:
    return Agent(**_agent_fields(w))


def to_created_agent(w: Wire) -> CreatedAgent:
    return CreatedAgent(**_agent_fields(w), secret=w.get("secret"))


def to_agent_key(w: Wire) -> CreatedAgentKey:
    return CreatedAgentKey(
        kid=w["kid"],
        public_key=w["public_key"],
        status=w["status"],
        created_at=parse_timestamp(w["created_at"]),
        revoked_at=parse_optional(w.get("revoked_at")),
        secret=w.get("secret"),
    )


def to_federated_credential(w: Wire) -> FederatedCredential:
    return FederatedCredential(
        id=w["id"],
        issuer=w["issuer"],
        subject=w["subject"],
        audience=w["audience"],
        claims=dict(w.get("claims") or {}),
        jwks=w.get("jwks"),
        status=w["status"],
        created_at=parse_timestamp(w["created_at"]),
        revoked_at=parse_optional(w.get("revoked_at")),
    )


def to_plain_agent_key(w: Wire) -> AgentKey:
    k = to_agent_key(w)
    return AgentKey(kid=k.kid, public_key=k.public_key, status=k.status, created_at=k.created_at, revoked_at=k.revoked_at)


def _api_key_fields(w: Wire) -> Dict[str, Any]:
    return dict(
        id=w["id"],
        name=w["name"],
        role=w["role"],
        prefix=w["prefix"],
        created_at=parse_timestamp(w["created_at"]),
        last_used_at=parse_optional(w.get("last_used_at")),
        revoked_at=parse_optional(w.get("revoked_at")),
    )


def to_api_key(w: Wire) -> ApiKey:
    return ApiKey(**_api_key_fields(w))


def to_created_api_key(w: Wire) -> CreatedApiKey:
    return CreatedApiKey(**_api_key_fields(w), key=w.get("key") or "")


def to_audit_event(w: Wire) -> AuditEvent:
    return AuditEvent(
        id=w["id"],
        seq=int(w["seq"]),
        action=w["action"],
        actor_type=w["actor_type"],
        actor_id=w.get("actor_id"),
        target_type=w.get("target_type"),
        target_id=w.get("target_id"),
        outcome=w["outcome"],
        reason=w.get("reason"),
        request_id=w.get("request_id"),
        client_ip=w.get("client_ip"),
        data=dict(w.get("data") or {}),
        created_at=parse_timestamp(w["created_at"]),
        hash=w["hash"],
    )


def to_audit_verification(w: Wire) -> AuditVerification:
    fb = w.get("first_broken_seq")
    return AuditVerification(
        valid=bool(w["valid"]),
        events_checked=int(w.get("events_checked") or 0),
        first_broken_seq=None if fb is None else int(fb),
        reason=w.get("reason"),
        seq=None if w.get("seq") is None else int(w["seq"]),
        hash=w.get("hash"),
        from_seq=int(w.get("from_seq") or 0),
    )


def to_audit_checkpoint(w: Wire) -> AuditCheckpoint:
    return AuditCheckpoint(
        checkpoint=w["checkpoint"], org_id=w["org_id"], seq=int(w["seq"]), hash=w["hash"], created_at=parse_timestamp(w["created_at"])
    )


def to_access_token(w: Wire, received_at: float) -> AccessToken:
    expires_in = int(w["expires_in"])
    from datetime import datetime, timezone

    expires_at = UTCDateTime.from_datetime(datetime.fromtimestamp(received_at + expires_in, timezone.utc))
    return AccessToken(
        access_token=w["access_token"], token_type=w["token_type"], expires_in=expires_in, expires_at=expires_at, scope=w.get("scope") or ""
    )


def _session_fields(w: Wire) -> Dict[str, Any]:
    return dict(
        id=w["id"],
        agent_id=w["agent_id"],
        scopes=list(w.get("scopes") or []),
        max_operations=w.get("max_operations"),
        operations_used=int(w.get("operations_used") or 0),
        status=w["status"],
        purpose=w.get("purpose"),
        created_at=parse_timestamp(w["created_at"]),
        expires_at=parse_timestamp(w["expires_at"]),
        ended_at=parse_optional(w.get("ended_at")),
        end_reason=w.get("end_reason"),
    )


def to_session(w: Wire) -> Session:
    return Session(**_session_fields(w))


def to_opened_session(w: Wire, credentials: Any = None) -> OpenedSession:
    return OpenedSession(**_session_fields(w), access_token=w.get("access_token") or "", _credentials=credentials)


def to_introspection(w: Wire) -> TokenIntrospection:
    def s(k: str) -> Optional[str]:
        v = w.get(k)
        return v if isinstance(v, str) else None

    def n(k: str) -> Optional[int]:
        v = w.get(k)
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    aud = w.get("aud")
    aud_v: Optional[Union[str, list]] = None
    if isinstance(aud, str) or (isinstance(aud, list) and all(isinstance(a, str) for a in aud)):
        aud_v = aud
    return TokenIntrospection(
        active=w.get("active") is True,
        sub=s("sub"),
        scope=s("scope"),
        client_id=s("client_id"),
        exp=n("exp"),
        iat=n("iat"),
        iss=s("iss"),
        aud=aud_v,
        jti=s("jti"),
        token_type=s("token_type"),
        sid=s("sid"),
        organization_id=s("org_id"),
        raw=dict(w),
        jkt=bound_jkt(w),
        actors=actor_chain(w["act"]) if "act" in w else None,
    )


def bound_jkt(claims: Dict[str, Any]) -> Optional[str]:
    """The DPoP key thumbprint a token is bound to (``cnf.jkt``, RFC 9449 §6), or None."""
    cnf = claims.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    return jkt if isinstance(jkt, str) else None


def defined(**kwargs: Any) -> Dict[str, Any]:
    """Only the keys that are set, so an omitted field is never sent as null."""
    return {k: v for k, v in kwargs.items() if v is not None}
