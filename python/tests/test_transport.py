"""The transport on the wire, against a scripted local peer: the TS SDK's transport.test.ts
scenarios (retries, backoff, Retry-After, idempotency keys, timeouts, typed errors) in Python.
Waits between retries go to a recorder instead of sleeping."""
from __future__ import annotations

import re
from typing import Iterator, List

import pytest

from certusordo import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    CertusOrdoClient,
    CertusOrdoError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ValidationError,
)
from certusordo._transport import retry_delay, should_retry

from .peer import Peer, Scripted, err, wire_agent

API_KEY = "aa_test_0123456789abcdef_secretpart"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture()
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture()
def peers() -> Iterator[List[Peer]]:
    made: List[Peer] = []
    yield made
    for p in made:
        p.close()


def start(peers: List[Peer], script) -> Peer:  # type: ignore[no-untyped-def]
    p = Peer(script)
    peers.append(p)
    return p


def make_client(url: str, sleeps: Sleeps, **kw) -> CertusOrdoClient:  # type: ignore[no-untyped-def]
    return CertusOrdoClient(api_key=API_KEY, base_url=url, sleep=sleeps, **kw)


def test_retries_503_twice_with_backoff_keeping_one_idempotency_key(peers, sleeps):
    peer = start(peers, [err(503, "unavailable"), err(503, "unavailable"), Scripted(201, wire_agent())])
    agent = make_client(peer.url, sleeps).agents.create(name="payment-processor", scopes=["payments:read"])
    assert agent.name == "payment-processor"
    assert len(peer.received) == 3
    keys = [r.headers.get("idempotency-key") for r in peer.received]
    assert re.fullmatch(r"[0-9a-f-]{36}", keys[0] or "")
    assert len(set(keys)) == 1
    # backoff: 0.5 s then 1 s, ±25 %
    assert len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.625
    assert 0.75 <= sleeps[1] <= 1.25
    assert peer.received[0].json() == {"name": "payment-processor", "scopes": ["payments:read"]}
    assert peer.received[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert peer.received[0].headers["content-type"] == "application/json"


def test_new_idempotency_key_per_logical_create_and_the_callers_key(peers, sleeps):
    key = {"kid": "k", "public_key": "p", "status": "active", "created_at": "2026-11-25T21:00:00Z", "revoked_at": None}
    api_key = {"id": "i", "name": "ci", "role": "reader", "prefix": "aa_x", "created_at": "2026-11-25T21:00:00Z", "last_used_at": None, "revoked_at": None, "key": "aa_x"}
    peer = start(peers, lambda rec, i: Scripted(201, key if "/keys" in rec.path else api_key if "api-keys" in rec.path else wire_agent()))
    c = make_client(peer.url, sleeps)
    c.agents.create(name="a")
    c.agents.create(name="a")
    c.agents.create(name="a", options={"idempotency_key": "my-key-1"})
    c.agents.keys.create("x")
    c.api_keys.create(name="ci", role="reader")
    keys = [r.headers.get("idempotency-key") for r in peer.received]
    assert keys[0] != keys[1]
    assert keys[2] == "my-key-1"
    assert keys[3] and keys[4] and len(set(keys)) == 5


def test_no_idempotency_key_on_reads_and_transitions(peers, sleeps):
    peer = start(peers, [Scripted(200, wire_agent())])
    c = make_client(peer.url, sleeps)
    c.agents.get("x")
    c.agents.suspend("x", "maintenance")
    c.agents.activate("x")
    assert [r.headers.get("idempotency-key") for r in peer.received] == [None, None, None]
    assert peer.received[1].json() == {"reason": "maintenance"}
    assert peer.received[1].path == "/v1/agents/x/suspend"
    assert peer.received[2].json() == {}


def test_honours_retry_after_on_429(peers, sleeps):
    peer = start(peers, [Scripted(429, {"error": {"code": "rate_limited", "message": "slow"}}, {"Retry-After": "1"}), Scripted(200, wire_agent())])
    make_client(peer.url, sleeps).agents.get("x")
    assert len(peer.received) == 2
    assert sleeps == [1.0]


def test_retry_after_longer_than_a_minute_falls_back_to_backoff():
    assert 0.375 <= retry_delay(0, {"retry-after": "3600"}) <= 0.625
    assert retry_delay(0, {"retry-after-ms": "250"}) == 0.25
    assert retry_delay(10, None, lambda: 0.5) == 8.0


def test_gives_up_after_max_retries_with_a_typed_error(peers, sleeps):
    peer = start(peers, [Scripted(429, {"error": {"code": "rate_limited", "message": "slow down"}}, {"Retry-After": "0", "X-Request-Id": "rid-1"})])
    with pytest.raises(RateLimitError) as info:
        make_client(peer.url, sleeps, max_retries=1).agents.get("x")
    e = info.value
    assert (e.status, e.code, e.request_id, e.message, e.retry_after) == (429, "rate_limited", "rid-1", "slow down", 0.0)
    assert len(peer.received) == 2


def test_never_retries_409(peers, sleeps):
    peer = start(peers, [err(409, "invalid_transition", "agent is revoked")])
    with pytest.raises(ConflictError) as info:
        make_client(peer.url, sleeps).agents.activate("x")
    assert info.value.code == "invalid_transition"
    assert len(peer.received) == 1 and sleeps == []


def test_does_not_retry_4xx_and_maps_validation_details(peers, sleeps):
    peer = start(peers, [err(400, "validation_error", "invalid body", details=[{"path": "name", "message": "name must not be empty"}])])
    with pytest.raises(ValidationError) as info:
        make_client(peer.url, sleeps).agents.create(name="", scopes=[])
    e = info.value
    assert [(d.path, d.message) for d in e.details or []] == [("name", "name must not be empty")]
    assert e.request_id == "req-400"
    assert "name: name must not be empty" in str(e)
    assert len(peer.received) == 1


@pytest.mark.parametrize(
    "status,code,cls",
    [
        (401, "unauthenticated", AuthenticationError),
        (403, "forbidden", PermissionDeniedError),
        (404, "not_found", NotFoundError),
        (500, "internal_error", InternalServerError),
        (418, "teapot", CertusOrdoError),
    ],
)
def test_status_to_error_class(peers, sleeps, status, code, cls):
    peer = start(peers, [err(status, code)])
    with pytest.raises(cls) as info:
        make_client(peer.url, sleeps, max_retries=0).agents.get("x")
    assert info.value.status == status and info.value.code == code


def test_respects_x_should_retry_false(peers, sleeps):
    peer = start(peers, [Scripted(503, {"error": {"code": "unavailable", "message": "x"}}, {"x-should-retry": "false"})])
    with pytest.raises(InternalServerError):
        make_client(peer.url, sleeps).agents.get("x")
    assert len(peer.received) == 1


def test_retries_network_errors_and_reports_api_connection_error(sleeps):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(APIConnectionError) as info:
        make_client(f"http://127.0.0.1:{port}", sleeps, max_retries=1).agents.get("x")
    assert not isinstance(info.value, APITimeoutError)
    assert "could not reach CertusOrdo" in str(info.value)
    assert len(sleeps) == 1


def test_a_dropped_connection_is_retried(peers, sleeps):
    peer = start(peers, [Scripted(drop=True), Scripted(200, wire_agent())])
    assert make_client(peer.url, sleeps).agents.get("x").id == wire_agent()["id"]
    assert len(peer.received) == 2


def test_timeout_aborts_the_attempt_retries_and_reports_api_timeout_error(peers, sleeps):
    peer = start(peers, [Scripted(hang=True)])
    with pytest.raises(APITimeoutError) as info:
        make_client(peer.url, sleeps, timeout=0.2, max_retries=1).agents.get("x")
    assert isinstance(info.value, APIConnectionError)
    assert len(peer.received) == 2


def test_per_call_timeout_overrides_the_clients(peers, sleeps):
    peer = start(peers, [Scripted(hang=True), Scripted(200, wire_agent())])
    agent = make_client(peer.url, sleeps).agents.get("x", options={"timeout": 0.2})
    assert agent.id == wire_agent()["id"]
    assert len(peer.received) == 2


def test_record_operation_is_not_retried_by_default(peers, sleeps):
    peer = start(peers, [err(503, "unavailable")])
    with pytest.raises(InternalServerError):
        make_client(peer.url, sleeps).sessions.record_operation("s1", "payments:read")
    assert len(peer.received) == 1
    peer2 = start(peers, [err(503, "unavailable"), Scripted(200, {"id": "s1", "agent_id": "a", "scopes": [], "max_operations": None, "operations_used": 1, "status": "active", "purpose": None, "created_at": "2026-11-25T21:00:00Z", "expires_at": "2026-11-25T22:00:00Z", "ended_at": None, "end_reason": None})])
    s = make_client(peer2.url, sleeps).sessions.record_operation("s1", "payments:read", options={"max_retries": 1})
    assert s.operations_used == 1 and len(peer2.received) == 2


def test_keep_alive_reuses_one_connection(peers, sleeps):
    peer = start(peers, [Scripted(200, wire_agent())])
    c = make_client(peer.url, sleeps)
    for _ in range(3):
        c.agents.get("x")
    assert len({r.client_port for r in peer.received}) == 1


def test_path_parameters_are_percent_encoded_and_dot_segments_refused(peers, sleeps):
    peer = start(peers, [Scripted(200, wire_agent())])
    c = make_client(peer.url, sleeps)
    c.agents.get("a/b")
    c.agents.get("../api-keys")
    assert [r.path for r in peer.received] == ["/v1/agents/a%2Fb", "/v1/agents/..%2Fapi-keys"]
    for bad in ("", ".", ".."):
        with pytest.raises(ValidationError):
            c.agents.get(bad)
    assert len(peer.received) == 2


def test_list_walks_every_page_lazily_with_filters(peers, sleeps):
    def script(rec, index):  # type: ignore[no-untyped-def]
        if "cursor=c1" in rec.path:
            return Scripted(200, {"data": [wire_agent(name="b")], "next_cursor": None})
        return Scripted(200, {"data": [wire_agent(name="a")], "next_cursor": "c1"})

    peer = start(peers, script)
    pager = make_client(peer.url, sleeps).agents.list(status="active", never_authenticated=True, limit=1)
    assert len(peer.received) == 1  # the first page is fetched by list() itself
    assert [a.name for a in pager] == ["a", "b"]
    assert peer.received[0].path == "/v1/agents?status=active&never_authenticated=true&limit=1"
    assert "cursor=c1" in peer.received[1].path
    assert [a.name for a in pager] == ["a", "b"]  # re-iterable


def test_no_api_key_and_invalid_key_characters(monkeypatch, peers, sleeps):
    monkeypatch.delenv("CERTUSORDO_API_KEY", raising=False)
    with pytest.raises(CertusOrdoError) as info:
        CertusOrdoClient()
    assert info.value.code == "invalid_configuration"
    peer = start(peers, [Scripted(200, wire_agent())])
    secret_ish = "aa_bad key\nX-Injected: 1"
    with pytest.raises(CertusOrdoError) as info2:
        CertusOrdoClient(api_key=secret_ish, base_url=peer.url).agents.get("x")
    assert "bad key" not in str(info2.value) and "bad key" not in repr(info2.value)
    assert peer.received == []


def test_env_configuration(monkeypatch, peers, sleeps):
    peer = start(peers, [Scripted(200, wire_agent())])
    monkeypatch.setenv("CERTUSORDO_API_KEY", API_KEY)
    monkeypatch.setenv("CERTUSORDO_ENDPOINT", peer.url + "/")
    c = CertusOrdoClient()
    assert c.base_url == peer.url
    c.agents.get("x")
    assert peer.received[0].headers["authorization"] == f"Bearer {API_KEY}"
    monkeypatch.delenv("CERTUSORDO_ENDPOINT")
    assert CertusOrdoClient().base_url == "http://127.0.0.1:8080"
    with pytest.raises(CertusOrdoError):
        CertusOrdoClient(base_url="ftp://example.com")
    with pytest.raises(CertusOrdoError):
        CertusOrdoClient(base_url="http://user:pw@example.com")


def test_errors_never_contain_the_api_key(peers, sleeps):
    peer = start(peers, [err(401, "unauthenticated", "unknown API key")])
    with pytest.raises(AuthenticationError) as info:
        make_client(peer.url, sleeps).agents.get("x")
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value)


def test_oauth_errors_map_by_error_code():
    from certusordo import generate

    assert isinstance(generate(400, {"error": "invalid_grant", "error_description": "agent suspended"}), AuthenticationError)
    assert isinstance(generate(400, {"error": "invalid_scope", "error_description": "x"}), ValidationError)
    assert isinstance(generate(401, {"error": "invalid_client"}), AuthenticationError)
    e = generate(429, {"error": "slow_down"}, {"Retry-After": "3"})
    assert isinstance(e, RateLimitError) and e.retry_after == 3.0 and e.code == "slow_down"


def test_should_retry_rules():
    assert should_retry(408, {}) and should_retry(429, {}) and should_retry(500, {}) and should_retry(503, {})
    assert not should_retry(409, {}) and not should_retry(400, {}) and not should_retry(404, {})
    assert should_retry(400, {"x-should-retry": "true"}) and not should_retry(500, {"x-should-retry": "false"})


def test_a_reused_connection_closed_by_the_server_is_replaced_for_safe_requests(peers, sleeps):
    peer = start(peers, [Scripted(200, wire_agent()), Scripted(drop=True), Scripted(200, wire_agent())])
    c = make_client(peer.url, sleeps, max_retries=0)
    c.agents.get("x")
    assert c.agents.get("x").id == wire_agent()["id"]  # dropped on the reused connection, resent on a new one
    assert len(peer.received) == 3 and sleeps == []
    assert peer.received[1].client_port == peer.received[0].client_port != peer.received[2].client_port


def test_an_unsafe_request_on_a_dropped_reused_connection_is_not_resent_without_retries(peers, sleeps):
    peer = start(peers, [Scripted(200, wire_agent()), Scripted(drop=True), Scripted(200, wire_agent())])
    c = make_client(peer.url, sleeps, max_retries=0)
    c.agents.get("x")
    with pytest.raises(APIConnectionError):
        c.agents.suspend("x")  # a POST without an Idempotency-Key: the server may have acted on it
    assert len(peer.received) == 2
