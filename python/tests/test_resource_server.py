"""The Python resource-server kit (``ResourceServer``) against a real control plane, on PGlite and
PostgreSQL: the same refusal cases as the TypeScript kit and the MCP verifier (another resource, no
resource, a missing scope, another organization, garbage), with RFC 6750 statuses and a challenge
naming the RFC 9728 metadata; DPoP: a bound token with a Python-made proof passes, and without a
proof, as Bearer, with a proof for another URL, method or key, or a replayed proof, it is refused
with 401 and the DPoP challenge; with introspection, a suspension refuses the
next call once the cached answer (at most 1 s, driven by an injected clock) is gone, a scope taken
from the agent (or narrowed from its wildcard) is refused 403 from then on and the token's scopes
are the control plane's, and an unreachable control plane refuses (503), never accepts."""
from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from certusordo import (
    AgentCredentials,
    CertusOrdoClient,
    ResourceServer,
    organization_issuer,
    protected_resource_metadata,
    protected_resource_metadata_url,
)

RESOURCE = "https://reports.example.com/api"
METADATA = "https://reports.example.com/.well-known/oauth-protected-resource/api"


def agent_creds(server, client, unique, scopes):  # type: ignore[no-untyped-def]
    agent = client.agents.create(name=unique("rs"), scopes=scopes)
    return agent, AgentCredentials.from_secret(agent.secret, base_url=server.url)


def rs(server, **kw) -> ResourceServer:  # type: ignore[no-untyped-def]
    return ResourceServer(issuer=organization_issuer(server.url, server.tests.id), resource=RESOURCE, scopes=["reports:read"], **kw)


def test_metadata_documents():
    assert protected_resource_metadata_url(RESOURCE) == METADATA
    assert protected_resource_metadata_url("https://h.example/") == "https://h.example/.well-known/oauth-protected-resource"
    doc = protected_resource_metadata(RESOURCE, issuer="https://id.example/orgs/o", scopes_supported=["reports:read"])
    assert doc == {
        "resource": RESOURCE, "authorization_servers": ["https://id.example/orgs/o"], "bearer_methods_supported": ["header"],
        "scopes_supported": ["reports:read"], "dpop_signing_alg_values_supported": ["EdDSA", "Ed25519", "ES256"],
    }
    strict = protected_resource_metadata(RESOURCE, issuer="https://id.example/orgs/o", require_dpop=True)
    assert strict["dpop_bound_access_tokens_required"] is True
    for bad in ("not a url", "ftp://h/x", "https://h/x#frag"):
        with pytest.raises(TypeError):
            protected_resource_metadata_url(bad)


def test_accepts_the_organizations_agent_for_this_resource(server, client, unique):
    agent, creds = agent_creds(server, client, unique, ["reports:read"])
    guard = rs(server)
    for resource in (RESOURCE, RESOURCE + "/"):  # one trailing slash aside, the same resource
        decision = guard.check(f"Bearer {creds.get_token(resource=resource)}")
        assert decision.ok and decision.status == 200 and decision.refusal is None
        assert decision.token.agent_id == agent.id and decision.token.organization_id == server.tests.id
        assert decision.token.resource == RESOURCE and decision.token.scopes == ["reports:read"] and decision.token.delegation is None
    _, wildcard = agent_creds(server, client, unique, ["reports:*"])  # resource:* covers every action
    assert guard.check(f"Bearer {wildcard.get_token(resource=RESOURCE)}").ok
    assert guard.metadata()["authorization_servers"] == [organization_issuer(server.url, server.tests.id)]


@pytest.mark.parametrize("resource", ["https://elsewhere.example.com/api", None])
def test_a_token_for_another_resource_or_none_is_invalid_token(server, client, unique, resource):
    _, creds = agent_creds(server, client, unique, ["reports:read"])
    token = creds.get_token(resource=resource) if resource else creds.get_token()
    d = rs(server).check(f"Bearer {token}")
    assert (d.ok, d.status, d.body["error"]) == (False, 401, "invalid_token")
    assert d.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="The token was not issued for this resource: '
        f"request it with resource=<this server's URL>\", resource_metadata=\"{METADATA}\""
    )
    assert token not in repr(d)


def test_a_missing_scope_is_403_insufficient_scope_naming_it(server, client, unique):
    _, creds = agent_creds(server, client, unique, ["reports:write"])
    d = rs(server).check(f"Bearer {creds.get_token(resource=RESOURCE)}")
    assert (d.status, d.body["error"]) == (403, "insufficient_scope")
    assert 'scope="reports:read"' in d.headers["WWW-Authenticate"]


def test_another_organization_garbage_no_token_and_other_schemes(server, unique):
    with CertusOrdoClient(api_key=server.guide.api_key, base_url=server.url) as other:
        stranger = other.agents.create(name=unique("stranger"), scopes=["reports:read"])
    token = AgentCredentials.from_secret(stranger.secret, base_url=server.url).get_token(resource=RESOURCE)
    guard = rs(server)
    assert (guard.check(f"Bearer {token}").status, guard.check(f"Bearer {token}").body["error"]) == (401, "invalid_token")
    for bad in ("Bearer garbage", "Bearer a.b.c"):
        assert guard.check(bad).status == 401
    none = guard.check(None)
    assert (none.status, none.headers["WWW-Authenticate"]) == (401, f'Bearer resource_metadata="{METADATA}"')
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"):
        d = guard.check(header)
        assert (header, d.status, d.body["error"]) == (header, 400, "invalid_request")


DPOP_ALGS = 'algs="EdDSA Ed25519 ES256"'


def dpop_challenge(error: str, description: str) -> str:
    return f'DPoP error="{error}", error_description="{description}", resource_metadata="{METADATA}", {DPOP_ALGS}'


def test_a_dpop_bound_token_passes_with_its_proof_and_is_refused_otherwise(server, client, unique):
    agent = client.agents.create(name=unique("rs-dpop"), scopes=["reports:read"])
    creds = AgentCredentials.from_secret(agent.secret, base_url=server.url, dpop=True)
    guard = rs(server)
    h = creds.auth_headers("GET", RESOURCE + "?page=2", resource=RESOURCE)
    token = h["Authorization"].split(" ", 1)[1]
    ok = guard.check(h["Authorization"], method="GET", url=RESOURCE + "?page=2", dpop=h["DPoP"])
    assert ok.ok and ok.token.agent_id == agent.id and ok.token.dpop_jkt == ok.token.claims["cnf"]["jkt"] and ok.token.dpop_jti
    # a path is resolved against the resource's origin
    p = creds.auth_headers("GET", RESOURCE, resource=RESOURCE)
    assert guard.check(p["Authorization"], method="GET", url="/api", dpop=p["DPoP"]).ok

    def refused(authorization, proof, method="GET", url=RESOURCE):  # type: ignore[no-untyped-def]
        d = guard.check(authorization, method=method, url=url, dpop=proof)
        assert d.status == 401 and token not in repr(d) and (not isinstance(proof, str) or proof not in repr(d))
        return d.body["error"], d.headers["WWW-Authenticate"]

    other_url = creds.auth_headers("GET", RESOURCE + "/elsewhere", resource=RESOURCE)["DPoP"]
    other_method = creds.auth_headers("POST", RESOURCE, resource=RESOURCE)["DPoP"]
    for proof in (None, other_url, other_method, "a.b.c", [h["DPoP"], h["DPoP"]]):
        error, challenge = refused(f"DPoP {token}", proof)
        assert error == "invalid_dpop_proof" and challenge.startswith('DPoP error="invalid_dpop_proof"') and challenge.endswith(DPOP_ALGS)
    # the replay of an accepted proof
    assert refused(h["Authorization"], h["DPoP"], url=RESOURCE + "?page=2") == (
        "invalid_dpop_proof", dpop_challenge("invalid_dpop_proof", "The DPoP proof was already used (jti replay); make a new proof for each request"),
    )
    # as Bearer, and without the request to check a proof against
    assert refused(f"Bearer {token}", None) == (
        "invalid_token", dpop_challenge("invalid_token", "This access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof header"),
    )
    assert guard.check(f"Bearer {token}").headers["WWW-Authenticate"].startswith('DPoP error="invalid_token"')
    # another agent's key, presenting the stolen token
    thief = client.agents.create(name=unique("rs-thief"), scopes=["reports:read"])
    stolen = AgentCredentials.from_secret(thief.secret, base_url=server.url, dpop=True).auth_headers("GET", RESOURCE, access_token=token)
    d = guard.check(stolen["Authorization"], method="GET", url=RESOURCE, dpop=stolen["DPoP"])
    assert (d.status, d.body["error_description"]) == (401, "The DPoP proof is not signed with the key this token is bound to")


def test_require_dpop_refuses_bearer_tokens_and_a_bearer_token_sent_as_dpop(server, client, unique):
    _, creds = agent_creds(server, client, unique, ["reports:read"])
    bearer = creds.get_token(resource=RESOURCE)
    strict = rs(server, require_dpop=True)
    assert strict.metadata()["dpop_bound_access_tokens_required"] is True
    d = strict.check(f"Bearer {bearer}", method="GET", url=RESOURCE)
    assert (d.status, d.headers["WWW-Authenticate"]) == (
        401, dpop_challenge("invalid_token", "This resource requires DPoP-bound tokens: request the token with a DPoP proof"),
    )
    none = strict.check(None, method="GET", url=RESOURCE)
    assert (none.status, none.headers["WWW-Authenticate"]) == (401, f'DPoP resource_metadata="{METADATA}", {DPOP_ALGS}')
    as_dpop = rs(server).check(f"DPoP {bearer}", method="GET", url=RESOURCE, dpop="a.b.c")
    assert (as_dpop.status, as_dpop.body["error"], as_dpop.headers["WWW-Authenticate"].split(" ")[0]) == (401, "invalid_token", "Bearer")
    with pytest.raises(TypeError):
        rs(server, public_url="not a url")


def test_introspection_refuses_a_suspended_agent_once_the_cache_has_passed(server, client, unique):
    key = client.api_keys.create(name=unique("introspector"), role="introspector").key
    clock = [time.time()]
    guard = rs(server, introspection={"api_key": key}, now=lambda: clock[0])
    agent, creds = agent_creds(server, client, unique, ["reports:read"])
    token = creds.get_token(resource=RESOURCE)
    assert guard.check(f"Bearer {token}").ok
    client.agents.suspend(agent.id)
    clock[0] += 1.0
    d = guard.check(f"Bearer {token}")
    assert (d.status, d.body["error"]) == (401, "invalid_token")
    assert "no longer active" in d.body["error_description"]


def test_introspection_narrows_a_live_tokens_scopes_once_the_cache_has_passed(server, client, unique):
    # The control plane takes a removed scope from live tokens at once (introspection answers
    # active with the narrowed scope); the JWT still carries it until it expires.
    key = client.api_keys.create(name=unique("introspector"), role="introspector").key
    clock = [time.time()]
    guard = rs(server, introspection={"api_key": key}, now=lambda: clock[0])
    agent, creds = agent_creds(server, client, unique, ["reports:read", "ledger:read"])
    token = creds.get_token(resource=RESOURCE)
    first = guard.check(f"Bearer {token}")
    assert first.ok and sorted(first.token.scopes) == ["ledger:read", "reports:read"]
    client.agents.update(agent.id, scopes=["ledger:read"])
    assert guard.check(f"Bearer {token}").ok  # the cached answer, for its TTL
    clock[0] += 1.0
    d = guard.check(f"Bearer {token}")
    assert (d.ok, d.status) == (False, 403) and d.body["error"] == "insufficient_scope"
    assert 'scope="reports:read"' in d.headers["WWW-Authenticate"]
    kept = guard.check(f"Bearer {token}", ["ledger:read"])
    assert kept.ok and kept.token.scopes == ["ledger:read"]

    wide, wide_creds = agent_creds(server, client, unique, ["reports:*"])
    wide_token = wide_creds.get_token(resource=RESOURCE)
    assert guard.check(f"Bearer {wide_token}").ok
    client.agents.update(wide.id, scopes=["reports:list"])
    clock[0] += 1.0
    d = guard.check(f"Bearer {wide_token}")
    assert (d.ok, d.status) == (False, 403) and d.body["error"] == "insufficient_scope"
    assert guard.check(f"Bearer {wide_token}", ["reports:list"]).token.scopes == ["reports:list"]
    client.agents.update(wide.id, scopes=["reports:*"])
    clock[0] += 1.0
    again = guard.check(f"Bearer {wide_token}")  # granted again: never more than the token was signed with
    assert again.ok and again.token.scopes == ["reports:*"]


def test_introspection_unreachable_refuses_with_503(server, client, unique):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    key = client.api_keys.create(name=unique("introspector"), role="introspector").key
    guard = rs(server, introspection={"api_key": key, "base_url": f"http://127.0.0.1:{closed}", "timeout": 2})
    _, creds = agent_creds(server, client, unique, ["reports:read"])
    d = guard.check(f"Bearer {creds.get_token(resource=RESOURCE)}")
    assert (d.ok, d.status, d.body["error"], d.headers.get("Retry-After")) == (False, 503, "temporarily_unavailable", "1")
    assert "WWW-Authenticate" not in d.headers
    with pytest.raises(TypeError):
        rs(server, introspection={"api_key": key, "cache_ttl": 5})


def test_issuer_metadata_meets_the_python_mcp_sdks_model_and_its_authorization_endpoint_never_redirects(server):
    # What the `mcp` SDK's OAuthMetadata (pydantic) requires: issuer, authorization_endpoint and
    # token_endpoint as http(s) URLs, response_types_supported a list of strings (it may be empty).
    with urllib.request.urlopen(f"{server.url}/.well-known/oauth-authorization-server/orgs/{server.tests.id}") as res:
        md = json.load(res)
    for field in ("issuer", "authorization_endpoint", "token_endpoint"):
        assert isinstance(md[field], str) and md[field].startswith(("http://", "https://")), field
    assert md["response_types_supported"] == [] and "private_key_jwt" in md["token_endpoint_auth_methods_supported"]
    assert {"EdDSA", "Ed25519"} <= set(md["token_endpoint_auth_signing_alg_values_supported"])

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise AssertionError("the authorization endpoint redirected")

    url = md["authorization_endpoint"] + "?response_type=code&client_id=x&redirect_uri=https%3A%2F%2Fevil.example%2F"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.build_opener(NoRedirect).open(url)
    assert caught.value.code == 400 and caught.value.headers.get("Location") is None
    assert json.load(caught.value)["error"] == "unsupported_response_type"
