"""auth_headers and request present a token without ``resource`` only to the control plane itself:
its ``aud`` is the organization's issuer, so any other service that received it could replay it at
the control plane as the agent (token passthrough, which MCP authorization forbids). Elsewhere the
caller gives ``resource`` (a token for that service alone) or an ``access_token`` of its choosing.

Two scripted local servers stand in for the control plane and for another service, so each test
sees exactly what reached either of them."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Iterator, Tuple
from urllib.parse import parse_qs

import pytest

from certusordo import AgentCredentials
from certusordo.auth.credentials import _origin
from certusordo.auth.keys import generate_agent_key_pair
from certusordo.types import AccessToken

from .peer import Peer, Received, Scripted

SESSION = {
    "id": "s1", "agent_id": "a", "scopes": ["a:read"], "max_operations": None, "operations_used": 0, "status": "active",
    "purpose": None, "created_at": "2026-11-25T21:00:00Z", "expires_at": "2026-11-25T22:00:00Z", "ended_at": None, "end_reason": None,
}


def control_plane_script(dpop: bool):  # type: ignore[no-untyped-def]
    def script(rec: Received, i: int) -> Scripted:
        if rec.path == "/v1/oauth/token":
            resource = parse_qs(rec.body.decode()).get("resource", [])
            token = "tok-for-" + (resource[0] if resource else "control-plane")
            return Scripted(200, {"access_token": token, "token_type": "DPoP" if dpop else "Bearer", "expires_in": 300, "scope": "a:read"})
        return Scripted(200, SESSION)

    return script


@pytest.fixture(params=[False, True], ids=["bearer", "dpop"])
def setup(request) -> Iterator[Tuple[AgentCredentials, Peer, Peer, bool]]:  # type: ignore[no-untyped-def]
    dpop = request.param
    control_plane = Peer(control_plane_script(dpop))
    service = Peer([Scripted(200, {"ok": True})])
    creds = AgentCredentials.from_key(str(uuid.uuid4()), generate_agent_key_pair().private_key, base_url=control_plane.url, dpop=dpop)
    try:
        yield creds, control_plane, service, dpop
    finally:
        creds.close()
        control_plane.close()
        service.close()


def token_requests(peer: Peer):  # type: ignore[no-untyped-def]
    return [parse_qs(r.body.decode()) for r in peer.received if r.path == "/v1/oauth/token"]


@pytest.mark.parametrize("resource", [None, [], ""], ids=["absent", "empty-list", "empty-string"])
def test_another_origin_without_resource_is_refused_before_any_token_is_requested(setup, resource):
    creds, control_plane, service, _ = setup
    url = service.url + "/tool?q=1"
    for call in (lambda: creds.auth_headers("GET", url, resource=resource), lambda: creds.request("POST", url, body=b"{}", resource=resource)):
        with pytest.raises(TypeError) as refused:
            call()
        message = str(refused.value)
        assert message.startswith("Tokens without a resource are for the control plane (aud = the organization's issuer); ")
        assert f"to call {service.url}, pass resource=<its resource URL>" in message
        assert "or access_token= for a token you chose" in message
    assert control_plane.received == []  # no token was asked for
    assert service.received == []  # and nothing was sent to the service


def test_a_cached_control_plane_token_is_not_handed_to_another_origin_either(setup):
    creds, control_plane, service, _ = setup
    creds.get_token()  # an explicit control-plane token, now in the cache
    with pytest.raises(TypeError):
        creds.auth_headers("GET", service.url + "/tool")
    with pytest.raises(TypeError):
        creds.request("GET", service.url + "/tool")
    assert len(token_requests(control_plane)) == 1
    assert service.received == []


def test_with_resource_the_token_is_issued_for_that_service(setup):
    creds, control_plane, service, dpop = setup
    resource = service.url + "/"
    answer = creds.request("GET", service.url + "/tool?q=1", resource=resource)
    assert answer.status == 200
    headers = creds.auth_headers("POST", service.url + "/tool", resource=resource)
    assert headers["Authorization"] == ("DPoP " if dpop else "Bearer ") + "tok-for-" + resource
    assert [t["resource"] for t in token_requests(control_plane)] == [[resource]]  # one token, cached
    (sent,) = service.received
    assert sent.headers["authorization"] == ("DPoP " if dpop else "Bearer ") + "tok-for-" + resource
    assert ("dpop" in sent.headers) is dpop


def test_an_access_token_of_the_callers_choice_is_never_refused(setup):
    creds, control_plane, service, dpop = setup
    headers = creds.auth_headers("GET", service.url + "/tool", access_token="chosen")
    assert headers["Authorization"] == ("DPoP chosen" if dpop else "Bearer chosen")
    assert creds.request("GET", service.url + "/tool", access_token="chosen").status == 200
    assert control_plane.received == []
    (sent,) = service.received
    assert sent.headers["authorization"] == ("DPoP chosen" if dpop else "Bearer chosen")


def test_the_control_planes_own_origin_needs_no_resource(setup):
    creds, control_plane, _, dpop = setup
    assert creds.get_session("s1").id == "s1"  # the SDK's own session call
    port = control_plane.url.rsplit(":", 1)[1]
    for url in (control_plane.url + "/v1/sessions/s1", f"HTTP://127.0.0.1:{port}/v1/sessions/s1"):
        assert creds.auth_headers("GET", url)["Authorization"] == ("DPoP " if dpop else "Bearer ") + "tok-for-control-plane"
    assert creds.request("GET", control_plane.url + "/v1/sessions/s1").status == 200
    assert [t.get("resource") for t in token_requests(control_plane)] == [None]
    assert [r.path for r in control_plane.received] == ["/v1/oauth/token", "/v1/sessions/s1", "/v1/sessions/s1"]


def test_a_default_port_written_or_not_is_the_same_origin(monkeypatch):
    creds = AgentCredentials.from_key("a", generate_agent_key_pair().private_key, base_url="https://co.example.com/prefix")
    expires = datetime.now(timezone.utc) + timedelta(minutes=5)
    # No token endpoint to reach here: a fixed token stands in for it.
    monkeypatch.setattr(creds, "get_access_token", lambda *a, **k: AccessToken("tok", "Bearer", 300, expires, "a:read"))
    for url in ("https://co.example.com/v1/sessions/s1", "https://CO.Example.com:443/other/path", "https://agent@co.example.com/x"):
        assert creds.auth_headers("GET", url) == {"Authorization": "Bearer tok"}, url
    for url in ("http://co.example.com/v1/sessions/s1", "https://co.example.com:8443/", "https://co.example.com.evil.test/", "https://evil.test/?https://co.example.com", "not a url"):
        with pytest.raises(TypeError):
            creds.auth_headers("GET", url)


def test_origins_compare_like_rfc_6454():
    assert _origin("HTTPS://Co.Example.COM:443/a?b#c") == "https://co.example.com"
    assert _origin("http://host:80") == _origin("http://HOST/") == "http://host"
    assert _origin("http://host:8080/") == "http://host:8080"
    assert _origin("http://[::1]:8080/x") == "http://[::1]:8080"
    assert _origin("https://host:80/") != _origin("https://host/")
    assert _origin("http://host:99999/") != _origin("http://host/")
