"""Agent keys (RFC 8032 vectors, RFC 7638 kid, the cos_ secret, reprs that never show a seed), client
assertions, ``AgentCredentials.request`` handing redirects back instead of following them with the
token, and local token verification against a scripted issuer (discovery, JWKS caching and
refetch, every refusal)."""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from typing import Any, Dict, List

import pytest

from certusordo import (
    AgentCredentials,
    CertusOrdoError,
    NotFoundError,
    TokenVerificationError,
    ValidationError,
    authorization_server_metadata_url,
    format_agent_secret,
    generate_agent_key_pair,
    jwk_thumbprint,
    organization_issuer,
    parse_agent_secret,
    public_key_from_private_key,
    verify_access_token,
)
from certusordo.auth.keys import b64url, b64url_decode, sign_jwt
from certusordo.auth.verify import JWKSCache

from .peer import Peer, Scripted, err

# RFC 8032 §7.1 test vectors 1 and 2.
VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


@pytest.mark.parametrize("seed,public,message,signature", VECTORS)
def test_rfc8032_vectors(seed, public, message, signature):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    assert public_key_from_private_key(bytes.fromhex(seed)).hex() == public
    assert Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed)).sign(bytes.fromhex(message)).hex() == signature


def test_secret_format_and_thumbprint():
    pair = generate_agent_key_pair()
    agent_id = str(uuid.uuid4())
    secret = format_agent_secret(agent_id, pair.private_key)
    parsed = parse_agent_secret(secret)
    assert parsed.agent_id == agent_id and parsed.private_key == pair.private_key
    assert b64url(public_key_from_private_key(pair.private_key)) == pair.public_key
    assert jwk_thumbprint(pair.public_key) == pair.kid == jwk_thumbprint(b64url_decode(pair.public_key))
    # RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key.
    assert jwk_thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    for bad in ("cos_nope", secret[:-1], secret.replace("cos_", "cos-"), "aa_" + secret):
        with pytest.raises(CertusOrdoError) as info:
            parse_agent_secret(bad)
        assert info.value.code == "invalid_secret" and bad not in str(info.value)


def test_key_pairs_and_parsed_secrets_never_show_the_seed():
    pair = generate_agent_key_pair()
    agent_id = str(uuid.uuid4())
    secret = format_agent_secret(agent_id, pair.private_key)
    parsed = parse_agent_secret(secret)
    seed = pair.private_key
    forms = [repr(seed), repr(seed)[2:-1], seed.hex(), seed.hex().upper(), b64url(seed), base64.b64encode(seed).decode(), str(list(seed)), secret]
    # Any run long enough to identify the seed, not only the whole encoding.
    runs = {f[i:i + 12] for f in (seed.hex(), b64url(seed), base64.b64encode(seed).decode()) for i in range(len(f) - 11)}
    for obj in (pair, parsed):
        for text in (repr(obj), str(obj), f"{obj}", repr([obj]), repr({"k": obj})):
            assert not [f for f in forms if f in text], text
            assert not [r for r in runs if r in text], text
    assert repr(pair) == f"AgentKeyPair(public_key={pair.public_key!r}, kid={pair.kid!r})"
    assert repr(parsed) == f"ParsedAgentSecret(agent_id={agent_id!r}, kid={pair.kid!r})"
    # Still the tuples they were: fields, unpacking, equality.
    private_key, public_key, kid = pair
    assert (private_key, public_key, kid) == (seed, pair.public_key, pair.kid) and tuple(parsed) == (agent_id, seed)


def test_client_assertion_claims():
    pair = generate_agent_key_pair()
    agent_id = str(uuid.uuid4())
    creds = AgentCredentials.from_key(agent_id, pair.private_key, base_url="https://co.example.com/")
    a = creds.create_client_assertion(now=1_800_000_000)
    header, claims = (json.loads(b64url_decode(p)) for p in a.split(".")[:2])
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": pair.kid}
    assert claims["iss"] == claims["sub"] == agent_id
    assert claims["aud"] == "https://co.example.com/v1/oauth/token"
    assert (claims["iat"], claims["exp"]) == (1_800_000_000, 1_800_000_060)
    assert creds.create_client_assertion() != creds.create_client_assertion()  # fresh jti each time


# ---- a scripted issuer ------------------------------------------------------------------------------


class Issuer:
    """Serves RFC 8414 metadata and a JWKS for one organization, and signs tokens."""

    def __init__(self) -> None:
        self.org = str(uuid.uuid4())
        self.keys = [generate_agent_key_pair()]
        self.hits: List[str] = []
        self.metadata_issuer_override: Any = None
        self.peer = Peer(self._answer)
        self.issuer = organization_issuer(self.peer.url, self.org)

    def _answer(self, rec, index):  # type: ignore[no-untyped-def]
        self.hits.append(rec.path)
        if rec.path == f"/.well-known/oauth-authorization-server/orgs/{self.org}":
            return Scripted(200, {"issuer": self.metadata_issuer_override or self.issuer, "jwks_uri": f"{self.issuer}/.well-known/jwks.json"})
        if rec.path == f"/orgs/{self.org}/.well-known/jwks.json":
            return Scripted(200, {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": k.public_key, "kid": k.kid, "alg": "EdDSA", "use": "sig"} for k in self.keys]})
        return err(404, "not_found", "no such organization")

    def token(self, key=None, header: Dict[str, Any] = None, **claims: Any) -> str:  # type: ignore[assignment,no-untyped-def]
        k = key or self.keys[0]
        now = int(time.time())
        payload = {"iss": self.issuer, "sub": "agent-1", "aud": self.issuer, "exp": now + 300, "iat": now, "scope": "a:read b:write", "org_id": self.org, "client_id": "agent-1"}
        payload.update(claims)
        payload = {k2: v for k2, v in payload.items() if v is not None}
        return sign_jwt({"alg": "EdDSA", "typ": "at+jwt", "kid": k.kid, **(header or {})}, payload, k.private_key)


@pytest.fixture()
def issuer():
    i = Issuer()
    yield i
    i.peer.close()


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_verifies_discovers_once_and_caches_the_jwks(issuer):
    cache = JWKSCache(clock=Clock())
    token = issuer.token()
    v = verify_access_token(token, issuer=issuer.issuer, jwks_cache=cache)
    assert (v.sub, v.scopes, v.organization_id, v.audience, v.client_id) == ("agent-1", ["a:read", "b:write"], issuer.org, [issuer.issuer], "agent-1")
    for _ in range(3):
        verify_access_token(issuer.token(), issuer=issuer.issuer, jwks_cache=cache)
    assert len(issuer.hits) == 2  # metadata once, JWKS once
    assert issuer.hits[0] == f"/.well-known/oauth-authorization-server/orgs/{issuer.org}"
    assert authorization_server_metadata_url(issuer.issuer) == f"{issuer.peer.url}/.well-known/oauth-authorization-server/orgs/{issuer.org}"


def test_unknown_kid_refetches_once_per_cooldown(issuer):
    clock = Clock()
    cache = JWKSCache(clock=clock, cooldown=30)
    jwks_url = f"{issuer.issuer}/.well-known/jwks.json"
    verify_access_token(issuer.token(), issuer=issuer.issuer, jwks_url=jwks_url, jwks_cache=cache)
    rotated = generate_agent_key_pair()
    issuer.keys.append(rotated)
    with pytest.raises(TokenVerificationError) as info:  # within the cooldown: no refetch
        verify_access_token(issuer.token(rotated), issuer=issuer.issuer, jwks_url=jwks_url, jwks_cache=cache)
    assert info.value.code == "ERR_JWKS_NO_MATCHING_KEY"
    assert len(issuer.hits) == 1
    clock.t += 31
    assert verify_access_token(issuer.token(rotated), issuer=issuer.issuer, jwks_url=jwks_url, jwks_cache=cache).sub == "agent-1"
    assert len(issuer.hits) == 2
    # Keys are refreshed after max_age even when every kid is known.
    clock.t += 601
    verify_access_token(issuer.token(), issuer=issuer.issuer, jwks_url=jwks_url, jwks_cache=cache)
    assert len(issuer.hits) == 3


@pytest.mark.parametrize(
    "case,code",
    [
        ("expired", "ERR_JWT_EXPIRED"),
        ("wrong_iss", "ERR_JWT_CLAIM_VALIDATION_FAILED"),
        ("wrong_typ", "ERR_JWT_CLAIM_VALIDATION_FAILED"),
        ("no_typ", "ERR_JWT_CLAIM_VALIDATION_FAILED"),
        ("alg_none", "ERR_JOSE_ALG_NOT_ALLOWED"),
        ("foreign_key", "ERR_JWKS_NO_MATCHING_KEY"),
        ("bad_signature", "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"),
        ("wrong_aud", "ERR_JWT_CLAIM_VALIDATION_FAILED"),
        ("nbf_future", "ERR_JWT_CLAIM_VALIDATION_FAILED"),
        ("no_exp", "ERR_JWT_CLAIM_VALIDATION_FAILED"),
        ("garbage", "ERR_JWS_INVALID"),
    ],
)
def test_refusals(issuer, case, code):
    cache = JWKSCache(clock=Clock())
    audience = None
    now = time.time()
    if case == "expired":
        token = issuer.token(exp=int(now) - 10)
    elif case == "wrong_iss":
        token = issuer.token(iss=issuer.peer.url + "/orgs/" + str(uuid.uuid4()))
    elif case == "wrong_typ":
        token = issuer.token(header={"typ": "JWT"})
    elif case == "no_typ":
        token = issuer.token(header={"typ": None})
    elif case == "alg_none":
        good = issuer.token()
        h = b64url(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
        token = h + "." + good.split(".")[1] + "."
    elif case == "foreign_key":
        token = issuer.token(generate_agent_key_pair())
    elif case == "bad_signature":
        other = generate_agent_key_pair()
        forged = issuer.token(other).split(".")
        token = ".".join([issuer.token().split(".")[0], forged[1], forged[2]])
    elif case == "wrong_aud":
        token = issuer.token(aud="https://other.example.com/")
        audience = ["https://payments.example.com/", "https://x.example.com/"]
    elif case == "nbf_future":
        token = issuer.token(nbf=int(now) + 600)
    elif case == "no_exp":
        token = issuer.token(exp=None)
    else:
        token = "not-a-jwt"
    with pytest.raises(TokenVerificationError) as info:
        verify_access_token(token, issuer=issuer.issuer, audience=audience, jwks_cache=cache)
    assert info.value.code == code
    assert token not in str(info.value)


def test_clock_tolerance_and_injected_now(issuer):
    cache = JWKSCache(clock=Clock())
    token = issuer.token(exp=2_000_000_000)
    assert verify_access_token(token, issuer=issuer.issuer, now=2_000_000_004, jwks_cache=cache)
    with pytest.raises(TokenVerificationError):
        verify_access_token(token, issuer=issuer.issuer, now=2_000_000_006, jwks_cache=cache)


def test_audience_list_and_header_typ_variants(issuer):
    cache = JWKSCache(clock=Clock())
    token = issuer.token(aud=["https://a.example.com/", "https://b.example.com/"], header={"typ": "application/at+jwt"})
    v = verify_access_token(token, issuer=issuer.issuer, audience=["https://b.example.com/"], jwks_cache=cache)
    assert v.audience == ["https://a.example.com/", "https://b.example.com/"]


def test_configuration_problems_are_not_token_errors(issuer):
    with pytest.raises(TypeError):
        verify_access_token(issuer.token(), issuer="")
    with pytest.raises(TypeError):
        verify_access_token(issuer.token(), issuer="orgs/123")
    with pytest.raises(NotFoundError):
        verify_access_token(issuer.token(), issuer=organization_issuer(issuer.peer.url, "unknown"), jwks_cache=JWKSCache())
    issuer.metadata_issuer_override = "https://evil.example.com/orgs/x"
    with pytest.raises(CertusOrdoError) as info:
        verify_access_token(issuer.token(), issuer=issuer.issuer, jwks_cache=JWKSCache())
    assert info.value.code == "invalid_metadata" and not isinstance(info.value, TokenVerificationError)


# ---- agent credentials against a scripted token endpoint -------------------------------------------


def token_response(i: int) -> Scripted:
    return Scripted(200, {"access_token": f"tok-{i}", "token_type": "Bearer", "expires_in": 300, "scope": "a:read"})


def test_each_retry_signs_a_fresh_assertion_and_concurrent_callers_share_one_request():
    pair = generate_agent_key_pair()
    gate = threading.Event()
    retried = threading.Event()

    def script(rec, i):  # type: ignore[no-untyped-def]
        if i == 0:
            return err(503, "unavailable")
        retried.set()
        gate.wait(10)  # hold the answer while the other threads queue for the same token
        return token_response(i)

    peer = Peer(script)
    try:
        sleeps: List[float] = []
        creds = AgentCredentials.from_key(str(uuid.uuid4()), pair.private_key, base_url=peer.url, sleep=sleeps.append)
        results: List[str] = []
        threads = [threading.Thread(target=lambda: results.append(creds.get_token(scopes="a:read"))) for _ in range(4)]
        for t in threads:
            t.start()
        assert retried.wait(10)
        gate.set()
        for t in threads:
            t.join(10)
        assert results == ["tok-1"] * 4
        assert len(peer.received) == 2 and len(sleeps) == 1
        forms = [dict(p.split("=", 1) for p in r.body.decode().split("&")) for r in peer.received]
        assert forms[0]["client_assertion"] != forms[1]["client_assertion"]
        assert forms[0]["grant_type"] == "client_credentials" and forms[0]["scope"] == "a%3Aread"
        assert "authorization" not in peer.received[0].headers
    finally:
        peer.close()


def test_token_errors_are_typed():
    pair = generate_agent_key_pair()
    peer = Peer([Scripted(400, {"error": "invalid_scope", "error_description": "scope not allowed"})])
    try:
        creds = AgentCredentials.from_key(str(uuid.uuid4()), pair.private_key, base_url=peer.url)
        with pytest.raises(ValidationError) as info:
            creds.get_token(scopes=["x:y"], resource=["https://a.example/", "https://b.example/"])
        assert info.value.code == "invalid_scope"
        body = peer.received[0].body.decode()
        assert body.count("resource=") == 2
    finally:
        peer.close()


@pytest.mark.parametrize("dpop", [False, True], ids=["bearer", "dpop"])
def test_request_never_follows_a_redirect_so_the_token_stays_with_its_url(dpop):
    # Two real servers: the service answers every call with a 3xx naming the other origin (or its
    # own), and the other one records whatever reaches it.
    pair = generate_agent_key_pair()
    elsewhere = Peer([Scripted(200, {"stolen": True})])

    def service_script(rec, i):  # type: ignore[no-untyped-def]
        if rec.path == "/v1/oauth/token":
            return Scripted(200, {"access_token": "tok-secret", "token_type": "DPoP" if dpop else "Bearer", "expires_in": 300, "scope": "a:read"})
        code = int(rec.path.rsplit("/", 1)[1])
        target = "/landing" if rec.path.startswith("/same/") else f"{elsewhere.url}/landing"
        return Scripted(code, headers={"Location": target})

    service = Peer(service_script)
    try:
        creds = AgentCredentials.from_key(str(uuid.uuid4()), pair.private_key, base_url=service.url, dpop=dpop)
        calls = [("GET", f"/other/{c}") for c in (301, 302, 303, 307, 308)] + [("POST", "/other/302"), ("POST", "/other/307"), ("GET", "/same/302")]
        for method, path in calls:
            answer = creds.request(method, service.url + path, body=b"{}" if method == "POST" else None)
            target = "/landing" if path.startswith("/same/") else f"{elsewhere.url}/landing"
            assert (answer.status, answer.headers["location"]) == (int(path.rsplit("/", 1)[1]), target), path
        assert elsewhere.received == []  # no request at all, so no Authorization or DPoP header either
        sent = [r for r in service.received if r.path != "/v1/oauth/token"]
        assert [(r.method, r.path) for r in sent] == calls  # a same-origin Location is not followed either
        for r in sent:
            assert r.headers["authorization"] == ("DPoP tok-secret" if dpop else "Bearer tok-secret")
            assert ("dpop" in r.headers) is dpop
    finally:
        service.close()
        elsewhere.close()


def test_the_alias_module_is_the_same_package():
    import certusordo
    import certusrodo

    assert certusrodo.CertusOrdoClient is certusordo.CertusOrdoClient
    assert certusrodo.NotFoundError is certusordo.NotFoundError
    assert set(certusordo.__all__) <= set(dir(certusrodo))


def test_delegated_tokens_expose_the_chain_and_can_be_refused(issuer):
    cache = JWKSCache(clock=Clock())
    own = verify_access_token(issuer.token(), issuer=issuer.issuer, jwks_cache=cache, max_delegation_depth=0)
    assert (own.sub, own.actors, own.actor) == ("agent-1", [], "agent-1")

    chain = issuer.token(act={"sub": "agent-c", "act": {"sub": "agent-b"}}, client_id="agent-c")
    v = verify_access_token(chain, issuer=issuer.issuer, jwks_cache=cache)
    assert (v.sub, v.actors, v.actor, v.client_id) == ("agent-1", ["agent-b", "agent-c"], "agent-c", "agent-c")
    assert verify_access_token(chain, issuer=issuer.issuer, jwks_cache=cache, max_delegation_depth=2).actors == ["agent-b", "agent-c"]
    for depth in (0, 1):
        with pytest.raises(TokenVerificationError) as info:
            verify_access_token(chain, issuer=issuer.issuer, jwks_cache=cache, max_delegation_depth=depth)
        assert info.value.code == "ERR_DELEGATION_DEPTH"
    for act in ({"sub": 5}, "agent-b", {"sub": "agent-c", "act": []}):
        with pytest.raises(TokenVerificationError) as info:
            verify_access_token(issuer.token(act=act), issuer=issuer.issuer, jwks_cache=cache)
        assert info.value.code == "ERR_DELEGATION_MALFORMED"
    with pytest.raises(TypeError):
        verify_access_token(chain, issuer=issuer.issuer, jwks_cache=cache, max_delegation_depth=-1)
