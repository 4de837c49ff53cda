"""The SDK against a real control plane, on PGlite and PostgreSQL: the TS SDK's client, agent-auth
and sessions scenarios (same errors, idempotency, pagination, tokens, verification)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from certusordo import (
    AgentCredentials,
    AuthenticationError,
    CertusOrdoClient,
    CertusOrdoError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TokenVerificationError,
    UTCDateTime,
    ValidationError,
    generate_agent_key_pair,
    organization_issuer,
    verify_access_token,
)
from certusordo.auth.verify import JWKSCache


def creds_for(server, secret: str, **kw) -> AgentCredentials:  # type: ignore[no-untyped-def]
    return AgentCredentials.from_secret(secret, base_url=server.url, **kw)


def test_agent_lifecycle_and_typed_errors(client, unique):
    name = unique("lifecycle")
    agent = client.agents.create(name=name, scopes=["payments:read", "payments:write"], metadata={"team": "payments"})
    assert agent.secret and agent.secret.startswith(f"cos_{agent.id}_")
    assert isinstance(agent.created_at, UTCDateTime) and agent.created_at.tzinfo is timezone.utc
    assert agent.last_auth_at is None and agent.metadata == {"team": "payments"}
    got = client.agents.get(agent.id)
    assert (got.name, got.public_key, got.status) == (name, agent.public_key, "active")
    assert not hasattr(got, "secret")

    updated = client.agents.update(agent.id, scopes=["payments:read"], metadata={"team": "risk"})
    assert updated.scopes == ["payments:read"] and updated.metadata == {"team": "risk"}
    assert client.agents.suspend(agent.id, reason="investigating").status == "suspended"
    assert client.agents.suspend(agent.id).status == "suspended"  # no-op
    assert client.agents.activate(agent.id).status == "active"
    assert client.agents.revoke(agent.id, "compromised").status == "revoked"
    with pytest.raises(ConflictError) as info:
        client.agents.activate(agent.id)
    assert info.value.code == "invalid_transition" and info.value.status == 409

    with pytest.raises(NotFoundError):
        client.agents.get("non-existent-id")
    with pytest.raises(NotFoundError):
        client.agents.get(str(uuid.uuid4()))
    with pytest.raises(ValidationError) as v:
        client.agents.create(name="", scopes=[])
    assert any(d.path == "name" for d in v.value.details or []) and "name: " in str(v.value)
    assert v.value.request_id
    other = client.agents.create(name=unique("taken"))
    with pytest.raises(ConflictError):
        client.agents.create(name=other.name)


def test_idempotent_create_replays_without_the_secret_and_refuses_another_body(client, unique):
    key = str(uuid.uuid4())
    name = unique("idem")
    first = client.agents.create(name=name, options={"idempotency_key": key})
    replay = client.agents.create(name=name, options={"idempotency_key": key})
    assert replay.id == first.id and first.secret and replay.secret is None
    with pytest.raises(ConflictError):
        client.agents.create(name=unique("idem-other"), options={"idempotency_key": key})


def test_list_iterates_every_page_with_filters(client, unique):
    prefix = unique("page")
    made = [client.agents.create(name=f"{prefix}-{i}") for i in range(5)]
    pager = client.agents.list(name_prefix=prefix, limit=2)
    assert len(pager.first_page().data) == 2 and pager.first_page().has_next_page()
    assert [a.id for a in pager] == [a.id for a in made]
    assert len(list(pager.pages())) == 3
    client.agents.suspend(made[0].id)
    assert [a.id for a in client.agents.list(status="suspended", name_prefix=prefix)] == [made[0].id]
    assert {a.id for a in client.agents.list(name_prefix=prefix, never_authenticated=True)} == {a.id for a in made}
    since = datetime.now(timezone.utc) + timedelta(minutes=1)
    assert len(client.agents.list(name_prefix=prefix, inactive_since=since).to_list()) == 5
    with pytest.raises(ValidationError):
        client.agents.list(status="bogus")  # type: ignore[arg-type]


def test_agent_keys_rotation(client, server, unique):
    agent = client.agents.create(name=unique("keys"), scopes=["read"])
    [first] = client.agents.keys.list(agent.id)
    assert first.status == "active"
    added = client.agents.keys.create(agent.id)
    assert added.secret and added.kid != first.kid
    assert creds_for(server, added.secret).get_token()
    assert creds_for(server, agent.secret).kid == first.kid
    removed = client.agents.keys.revoke(agent.id, first.kid)
    assert removed.status == "revoked" and removed.revoked_at is not None
    with pytest.raises(AuthenticationError) as info:
        creds_for(server, agent.secret).get_token()
    assert info.value.code == "invalid_client"
    with pytest.raises(ConflictError):
        client.agents.keys.revoke(agent.id, added.kid)  # the last active key
    own = generate_agent_key_pair()
    mine = client.agents.keys.create(agent.id, public_key=own.public_key)
    assert mine.secret is None and mine.kid == own.kid
    assert AgentCredentials.from_key(agent.id, own.private_key, base_url=server.url).get_token()


def test_api_keys_and_roles(client, server, unique):
    reader = client.api_keys.create(name=unique("reader"), role="reader")
    assert reader.key.startswith("aa_") and reader.key not in repr(reader)
    assert reader.id in {k.id for k in client.api_keys.list()}
    with CertusOrdoClient(api_key=reader.key, base_url=server.url) as rc:
        assert isinstance(list(rc.agents.list(limit=1)), list)
        with pytest.raises(PermissionDeniedError):
            rc.agents.create(name=unique("nope"))
    revoked = client.api_keys.revoke(reader.id)
    assert revoked.revoked_at is not None
    with CertusOrdoClient(api_key=reader.key, base_url=server.url) as rc:
        with pytest.raises(AuthenticationError):
            rc.agents.get(str(uuid.uuid4()))
    with pytest.raises(ValidationError):
        client.api_keys.create(name="x", role="owner")  # type: ignore[arg-type]


def test_audit_events_verify_and_checkpoint(client, unique):
    agent = client.agents.create(name=unique("audited"))
    client.agents.suspend(agent.id, reason="check")
    events = list(client.audit_events.list(agent_id=agent.id))
    assert [e.action for e in events] == ["agent.created", "agent.suspended"]
    assert events[1].reason == "check" and events[0].seq < events[1].seq
    cp = client.audit_events.checkpoint()
    assert cp.checkpoint.count(".") == 2
    result = client.audit_events.verify(checkpoint=cp.checkpoint)
    assert result.valid and result.first_broken_seq is None
    assert client.audit_events.verify(full=True).valid


def test_tokens_caching_introspection_and_local_verification(client, server, unique):
    agent = client.agents.create(name=unique("tok"), scopes=["payments:read", "payments:write"])
    creds = creds_for(server, agent.secret)
    token = creds.get_token()
    assert creds.get_token() == token  # cached
    narrow = creds.get_token(scopes=["payments:read"])
    assert narrow != token
    info = client.introspect(narrow)
    assert info.active and info.sub == agent.id and info.scope == "payments:read"
    assert info.organization_id == server.tests.id
    assert client.agents.get(agent.id).last_auth_at is not None

    issuer = organization_issuer(server.url, server.tests.id)
    claims = verify_access_token(token, issuer=issuer)
    assert claims.sub == agent.id and sorted(claims.scopes) == ["payments:read", "payments:write"]
    assert claims.organization_id == server.tests.id and claims.audience == [issuer]
    # RFC 8707: a token for one service is refused by a service that requires another audience.
    for_payments = creds.get_token(resource="https://payments.example.com/")
    assert verify_access_token(for_payments, issuer=issuer, audience="https://payments.example.com/").audience == [
        "https://payments.example.com/"
    ]
    with pytest.raises(TokenVerificationError) as bad_aud:
        verify_access_token(token, issuer=issuer, audience="https://payments.example.com/")
    assert bad_aud.value.code == "ERR_JWT_CLAIM_VALIDATION_FAILED"
    # Another organization's issuer (the guide org of this server) refuses this organization's token.
    other_issuer = organization_issuer(server.url, server.guide.id)
    with pytest.raises(TokenVerificationError):
        verify_access_token(token, issuer=other_issuer)
    with pytest.raises(NotFoundError):
        verify_access_token(token, issuer=organization_issuer(server.url, str(uuid.uuid4())), jwks_cache=JWKSCache())
    with pytest.raises(TypeError):
        verify_access_token(token)  # type: ignore[call-arg]
    # Expiry, with the verifier's clock moved past exp.
    with pytest.raises(TokenVerificationError) as expired:
        verify_access_token(token, issuer=issuer, now=claims.expires_at.timestamp() + 60)
    assert expired.value.code == "ERR_JWT_EXPIRED"

    creds.revoke_token(token)
    assert client.introspect(token).active is False
    assert creds.get_token() != token  # dropped from the cache
    client.agents.suspend(agent.id)
    assert client.introspect(narrow).active is False
    with pytest.raises(AuthenticationError) as suspended:
        creds.get_token(force_refresh=True)
    assert suspended.value.code == "invalid_grant"


def test_token_refresh_before_expiry_uses_the_injected_clock(client, server, unique):
    agent = client.agents.create(name=unique("refresh"))
    now = [0.0]
    import time as _time

    now[0] = _time.time()
    creds = creds_for(server, agent.secret, clock=lambda: now[0])
    first = creds.get_access_token()
    assert first.expires_in > 30
    now[0] += first.expires_in - 31  # 31 s left: still cached
    assert creds.get_token() == first.access_token
    now[0] += 2  # 29 s left: inside the 30 s margin, refreshed
    assert creds.get_token() != first.access_token


def test_sessions_open_record_end(client, server, unique):
    agent = client.agents.create(name=unique("sess"), scopes=["payments:read", "payments:write"])
    creds = creds_for(server, agent.secret)
    session = creds.open_session(["payments:read"], ttl_seconds=600, max_operations=2, purpose="nightly reconciliation")
    assert session.access_token and session.access_token not in repr(session)
    assert session.status == "active" and session.max_operations == 2 and session.purpose == "nightly reconciliation"
    assert client.introspect(session.access_token).sid == session.id
    assert creds.get_session(session.id).id == session.id
    assert client.sessions.record_operation(session.id, "payments:read", "charge 42").operations_used == 1
    with pytest.raises(PermissionDeniedError) as denied:
        client.sessions.record_operation(session.id, "payments:write")
    assert denied.value.details and denied.value.details[0].message == "scope_not_in_session"
    done = client.sessions.record_operation(session.id, "payments:read")
    assert done.status == "exhausted"
    with pytest.raises(PermissionDeniedError) as spent:
        client.sessions.record_operation(session.id, "payments:read")
    assert spent.value.details[0].message == "budget_exhausted"
    assert [s.id for s in client.sessions.list(agent_id=agent.id)] == [session.id]

    with creds.open_session(["payments:read"]) as second:
        assert client.introspect(second.access_token).active
    ended = client.sessions.get(second.id)
    assert ended.status == "ended" and ended.end_reason == "ended_by_agent" and ended.ended_at is not None
    assert client.introspect(second.access_token).active is False

    third = creds.open_session(["payments:read"])
    assert client.sessions.end(third.id).end_reason == "ended_by_api_key"
    assert client.sessions.end(third.id).status == "ended"  # idempotent
    with pytest.raises(NotFoundError):
        client.sessions.get(str(uuid.uuid4()))


def test_session_token_renewed_with_the_agents_current_token(client, server, unique):
    agent = client.agents.create(name=unique("renew"), scopes=["payments:read"])
    creds = creds_for(server, agent.secret)
    opener = creds.get_token()
    session = creds.open_session(["payments:read"], ttl_seconds=3600)
    # The session lasts an hour; its token no longer than the token it was minted from.
    assert client.introspect(session.access_token).exp == client.introspect(opener).exp
    fresh = creds.get_access_token(force_refresh=True)
    renewed = creds.renew_session_token(session.id)
    assert renewed.id == session.id and renewed.access_token != session.access_token
    info = client.introspect(renewed.access_token)
    assert info.active and info.sid == session.id and info.exp == client.introspect(fresh.access_token).exp
    # Its opener revoked, the session ended, and stays ended.
    creds.revoke_token(opener)
    with pytest.raises(PermissionDeniedError) as ended:
        creds.renew_session_token(session.id)
    assert ended.value.details[0].message == "session_ended"


def test_wrong_api_key_is_an_authentication_error_without_the_key(server):
    key = "aa_" + "x" * 43
    with CertusOrdoClient(api_key=key, base_url=server.url) as c:
        with pytest.raises(AuthenticationError) as info:
            c.agents.get(str(uuid.uuid4()))
    assert info.value.status == 401 and key not in str(info.value) and key not in repr(info.value)


def test_delegation_exchange_and_verification(client, server, unique):
    subject = client.agents.create(name=unique("deleg-subject"), scopes=["payments:read", "payments:write"])
    actor = client.agents.create(name=unique("deleg-actor"), scopes=["payments:read"])
    stranger = client.agents.create(name=unique("deleg-stranger"), scopes=["payments:read"])
    assert subject.may_act == []
    assert client.agents.update(subject.id, may_act=[actor.id]).may_act == [actor.id]
    with pytest.raises(ValidationError):
        client.agents.update(subject.id, may_act=[str(uuid.uuid4())])

    subject_token = creds_for(server, subject.secret).get_token()
    delegated = creds_for(server, actor.secret).exchange_token(subject_token, resource="https://ledger.example.com/")
    assert delegated.scope == "payments:read"
    issuer = organization_issuer(server.url, server.tests.id)
    claims = verify_access_token(delegated.access_token, issuer=issuer, audience="https://ledger.example.com/")
    assert (claims.sub, claims.actors, claims.actor, claims.client_id) == (subject.id, [actor.id], actor.id, actor.id)
    with pytest.raises(TokenVerificationError) as refused:
        verify_access_token(delegated.access_token, issuer=issuer, audience="https://ledger.example.com/", max_delegation_depth=0)
    assert refused.value.code == "ERR_DELEGATION_DEPTH"
    assert client.introspect(delegated.access_token).actors == [actor.id]
    with pytest.raises(CertusOrdoError) as not_listed:
        creds_for(server, stranger.secret).exchange_token(subject_token)
    assert not_listed.value.code == "invalid_grant"

    client.agents.update(subject.id, may_act=[])
    assert client.introspect(delegated.access_token).active is False
