"""DPoP server nonces at a Python resource server (RFC 9449 §9): ``ResourceServer(dpop_nonce=…)``
behind a real ``http.server``, tokens from a real control plane (PGlite and PostgreSQL), the
resource server's clock stepped by the test. A proof without the nonce, with another secret's or
one two windows old is refused 401 ``use_dpop_nonce`` with a fresh ``DPoP-Nonce``; with it the call
passes; ``AgentCredentials.request`` retries once and remembers the nonce. The nonce format is
the TypeScript kit's and the control plane's (a fixed vector both test suites check)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from certusordo import AgentCredentials, HmacDpopNonces, ResourceServer, organization_issuer
from certusordo.auth.dpop import create_dpop_proof, dpop_key_from_seed
from certusordo.auth.keys import parse_agent_secret

SECRET = "a shared nonce secret, 32 bytes or more, for every replica"
# Short windows: the client's proofs carry the real time, and two windows must fit in a proof's 60 s.
WINDOW_S = 10


def test_the_nonce_format_is_the_typescript_kits_a_fixed_vector():
    # test/auth/resource-nonce.test.ts checks the same value.
    assert HmacDpopNonces(SECRET, 60).current(1_800_000_000) == "hv05c.swoTrdvdeUBo4BqxvMxNMdQ3"


def test_hmac_nonces_accept_the_current_and_previous_window_only():
    nonces = HmacDpopNonces(SECRET, WINDOW_S)
    t = 1_800_000_003.5
    n = nonces.current(t)
    assert nonces.verdict(n, t) == "current" and nonces.verdict(n, t + WINDOW_S) == "previous"
    assert not nonces.accepts(n, t + 2 * WINDOW_S) and not nonces.accepts(n, t - WINDOW_S)
    assert not HmacDpopNonces("another secret, also at least 32 bytes long", WINDOW_S).accepts(n, t)
    for garbage in ("", ".", n + "x", n[:-1], "zzzzzzzzzzzzz." + n.split(".")[1], "-1." + n.split(".")[1], "\u00e9." + n.split(".")[1]):
        assert not nonces.accepts(garbage, t), garbage
    assert SECRET not in repr(nonces)
    with pytest.raises(TypeError, match="at least 32 bytes"):
        HmacDpopNonces("short")
    with pytest.raises(TypeError, match="window_seconds"):
        HmacDpopNonces(SECRET, 0)


class _Api:
    """GET /reports behind ``ResourceServer.check`` on a free port; counts the statuses it answers."""

    def __init__(self, guard_for, offset: List[float]) -> None:  # type: ignore[no-untyped-def]
        self.statuses: List[int] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                d = api.guard.check(self.headers.get("Authorization"), method="GET", url=self.path, dpop=self.headers.get_all("DPoP"))
                status, body = (200, {"agent": d.token.agent_id}) if d.ok else (d.status, d.body)
                api.statuses.append(status)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for k, v in d.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass  # requests carry tokens and proofs: nothing of them in the test output

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/reports"
        self.guard: ResourceServer = guard_for(self.url)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture()
def setup(server, client, unique) -> Iterator[Tuple[_Api, AgentCredentials, List[float], str]]:  # type: ignore[no-untyped-def]
    offset = [0.0]
    issuer = organization_issuer(server.url, server.tests.id)
    api = _Api(
        lambda url: ResourceServer(
            issuer=issuer, resource=url, scopes=["reports:read"], now=lambda: time.time() + offset[0],
            dpop_nonce={"secret": SECRET, "window_seconds": WINDOW_S},
        ),
        offset,
    )
    agent = client.agents.create(name=unique("rs-nonce"), scopes=["reports:read"])
    creds = AgentCredentials.from_secret(agent.secret, base_url=server.url, dpop=True)
    yield api, creds, offset, agent.secret
    api.close()
    creds.close()


def _call(url: str, headers: Dict[str, str]) -> Tuple[int, Dict[str, str], Dict[str, object]]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:  # noqa: S310 (a local test server)
            return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, json.loads(err.read())


def _proof_headers(creds: AgentCredentials, secret: str, url: str, nonce: Optional[str]) -> Dict[str, str]:
    token = creds.get_token(resource=url)
    key = dpop_key_from_seed(parse_agent_secret(secret).private_key)
    return {"Authorization": f"DPoP {token}", "DPoP": create_dpop_proof(key, "GET", url, access_token=token, nonce=nonce)}


def test_a_proof_needs_the_current_or_previous_nonce(setup):  # type: ignore[no-untyped-def]
    api, creds, offset, secret = setup
    status, headers, body = _call(api.url, _proof_headers(creds, secret, api.url, None))
    assert (status, body["error"]) == (401, "use_dpop_nonce")
    assert headers["www-authenticate"].startswith('DPoP error="use_dpop_nonce", error_description="The DPoP proof must carry the server\'s current nonce (DPoP-Nonce header)"')
    nonce = headers["dpop-nonce"]
    assert HmacDpopNonces(SECRET, WINDOW_S).accepts(nonce, time.time() + offset[0])
    status, headers, _ = _call(api.url, _proof_headers(creds, secret, api.url, nonce))
    assert (status, headers.get("dpop-nonce")) == (200, None)
    # another secret's nonce
    foreign = HmacDpopNonces("another secret, also at least 32 bytes long", WINDOW_S).current(time.time() + offset[0])
    status, headers, body = _call(api.url, _proof_headers(creds, secret, api.url, foreign))
    assert (status, body["error"], headers["dpop-nonce"]) == (401, "use_dpop_nonce", nonce)
    # one window on: accepted, with the new nonce; two windows on: refused
    offset[0] += WINDOW_S
    status, headers, _ = _call(api.url, _proof_headers(creds, secret, api.url, nonce))
    assert status == 200 and headers["dpop-nonce"] != nonce
    offset[0] += WINDOW_S
    status, headers, body = _call(api.url, _proof_headers(creds, secret, api.url, nonce))
    assert (status, body["error"]) == (401, "use_dpop_nonce") and headers["dpop-nonce"] != nonce
    # a nonce claim that is no nonce is a bad proof
    status, headers, body = _call(api.url, _proof_headers(creds, secret, api.url, 'say "hi"'))
    assert (status, body["error"], headers.get("dpop-nonce")) == (401, "invalid_dpop_proof", None)


def test_the_python_client_retries_once_with_the_nonce_and_remembers_it(setup):  # type: ignore[no-untyped-def]
    api, creds, offset, _ = setup
    first = creds.request("GET", api.url, resource=api.url)
    assert (first.status, json.loads(first.body)["agent"]) == (200, creds.agent_id)
    assert api.statuses == [401, 200]
    assert creds.request("GET", api.url, resource=api.url).status == 200
    assert api.statuses == [401, 200, 200]
    offset[0] += 2 * WINDOW_S
    assert creds.request("GET", api.url, resource=api.url).status == 200
    assert api.statuses == [401, 200, 200, 401, 200]


def test_a_nonce_source_of_your_own_and_bearer_tokens(server, client, unique):  # type: ignore[no-untyped-def]
    class Rotating:
        value = "rotating-1"

        def current(self, now: float) -> str:
            return self.value

        def accepts(self, nonce: str, now: float) -> bool:
            return nonce == self.value

    source = Rotating()
    issuer = organization_issuer(server.url, server.tests.id)
    api = _Api(lambda url: ResourceServer(issuer=issuer, resource=url, scopes=["reports:read"], dpop_nonce=source), [0.0])
    try:
        agent = client.agents.create(name=unique("rs-nonce-own"), scopes=["reports:read"])
        creds = AgentCredentials.from_secret(agent.secret, base_url=server.url, dpop=True)
        status, headers, _ = _call(api.url, _proof_headers(creds, agent.secret, api.url, None))
        assert (status, headers["dpop-nonce"]) == (401, "rotating-1")
        assert _call(api.url, _proof_headers(creds, agent.secret, api.url, "rotating-1"))[0] == 200
        source.value = "rotating-2"
        status, headers, _ = _call(api.url, _proof_headers(creds, agent.secret, api.url, "rotating-1"))
        assert (status, headers["dpop-nonce"]) == (401, "rotating-2")
        # bearer tokens carry no proof and are not asked for a nonce
        bearer = AgentCredentials.from_secret(agent.secret, base_url=server.url)
        status, headers, _ = _call(api.url, bearer.auth_headers("GET", api.url, resource=api.url))
        assert (status, headers.get("dpop-nonce")) == (200, None)
    finally:
        api.close()
    with pytest.raises(TypeError, match="dpop_nonce"):
        ResourceServer(issuer=issuer, resource="https://r.example.com/", dpop_nonce={"secret": SECRET, "window": 5})
