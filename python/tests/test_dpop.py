"""DPoP proofs in Python: made by ``create_dpop_proof``, checked by ``verify_dpop_proof`` and
``verify_dpop_presentation`` with the refusal cases of the control plane (test/auth/dpop.test.ts).
The end-to-end run against a real control plane is in that jest suite (it drives this SDK)."""
from __future__ import annotations

import json
import time

import pytest

from certusordo.auth.dpop import (
    DpopReplayCache,
    create_dpop_proof,
    dpop_key_from_seed,
    generate_dpop_key,
    normalize_htu,
    parse_authorization,
    verify_dpop_presentation,
    verify_dpop_proof,
)
from certusordo.auth.keys import b64url, b64url_decode, generate_agent_key_pair, jwk_thumbprint

URL = "https://tools.example.com/v1/run"
TOKEN = "header.payload.signature"


def _resign(proof: str, key, header=None, claims=None) -> str:  # type: ignore[no-untyped-def]
    """The proof with its header or claims changed, signed again by ``key``."""
    h, p, _ = proof.split(".")
    header_obj = {**json.loads(b64url_decode(h)), **(header or {})}
    claims_obj = {**json.loads(b64url_decode(p)), **(claims or {})}
    seg = lambda o: b64url(json.dumps(o, separators=(",", ":")).encode())  # noqa: E731
    signing_input = f"{seg(header_obj)}.{seg(claims_obj)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode()))}"


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_a_proof_verifies_once_for_its_request_and_key(alg: str) -> None:
    key = generate_dpop_key(alg)
    replay = DpopReplayCache()
    proof = create_dpop_proof(key, "post", URL + "?q=1#f", access_token=TOKEN)
    first = verify_dpop_proof(proof, htm="POST", htu=URL, replay=replay, access_token=TOKEN, expected_jkt=key.thumbprint)
    assert (first.ok, first.jkt) == (True, key.thumbprint)
    again = verify_dpop_proof(proof, htm="POST", htu=URL, replay=replay, access_token=TOKEN, expected_jkt=key.thumbprint)
    assert (again.ok, again.error, again.reason) == (False, "invalid_dpop_proof", "replayed")


def test_the_agents_own_key_has_its_kid_as_thumbprint() -> None:
    pair = generate_agent_key_pair()
    assert dpop_key_from_seed(pair.private_key).thumbprint == jwk_thumbprint(pair.public_key) == pair.kid


def test_each_bad_proof_is_refused_with_its_reason() -> None:
    key = generate_dpop_key()
    other = generate_dpop_key()
    now = int(time.time())
    good = create_dpop_proof(key, "GET", URL, access_token=TOKEN)
    cases = {
        "malformed": "garbage",
        "bad_typ": _resign(good, key, header={"typ": "JWT"}),
        "unsupported_alg": _resign(good, key, header={"alg": "RS256"}),
        "bad_jwk": _resign(good, key, header={"jwk": {**key.public_jwk, "d": "AAAA"}}),
        "bad_signature": _resign(good, key, header={"jwk": other.public_jwk}),
        "htm_mismatch": create_dpop_proof(key, "POST", URL, access_token=TOKEN),
        "htu_mismatch": create_dpop_proof(key, "GET", "https://tools.example.com/other", access_token=TOKEN),
        "iat_stale": create_dpop_proof(key, "GET", URL, access_token=TOKEN, now=now - 600),
        "iat_future": create_dpop_proof(key, "GET", URL, access_token=TOKEN, now=now + 600),
        "ath_missing": create_dpop_proof(key, "GET", URL),
        "ath_mismatch": create_dpop_proof(key, "GET", URL, access_token="another"),
        "jkt_mismatch": create_dpop_proof(other, "GET", URL, access_token=TOKEN),
    }
    # A nonce claim that could be no server's nonce (RFC 9449 §8.1 NQCHARs, at most 256) is a bad proof.
    bad_nonces = [_resign(good, key, claims={"nonce": v}) for v in (5, None, "", "x" * 257, 'say "hi"', "caf\u00e9")]
    replay = DpopReplayCache()
    for reason, proof in cases.items():
        r = verify_dpop_proof(proof, htm="GET", htu=URL, replay=replay, access_token=TOKEN, expected_jkt=key.thumbprint)
        assert (r.ok, r.error, r.reason) == (False, "invalid_dpop_proof", reason)
        assert proof not in (r.message or "")
    for proof in bad_nonces:
        r = verify_dpop_proof(proof, htm="GET", htu=URL, replay=replay, access_token=TOKEN, expected_jkt=key.thumbprint, nonce=lambda n: True)
        assert (r.ok, r.error, r.reason) == (False, "invalid_dpop_proof", "bad_nonce")
    # None of the refusals filled the cache; the good proof still passes.
    assert len(replay) == 0
    assert verify_dpop_proof(good, htm="GET", htu=URL, replay=replay, access_token=TOKEN, expected_jkt=key.thumbprint).ok


def test_nonces() -> None:
    key = generate_dpop_key("EdDSA")
    replay = DpopReplayCache()
    missing = verify_dpop_proof(create_dpop_proof(key, "POST", URL), htm="POST", htu=URL, replay=replay, nonce="n1")
    assert (missing.error, missing.reason) == ("use_dpop_nonce", "nonce_missing")
    wrong = verify_dpop_proof(create_dpop_proof(key, "POST", URL, nonce="n0"), htm="POST", htu=URL, replay=replay, nonce=lambda n: n == "n1")
    assert (wrong.error, wrong.reason) == ("use_dpop_nonce", "nonce_invalid")
    assert verify_dpop_proof(create_dpop_proof(key, "POST", URL, nonce="n1"), htm="POST", htu=URL, replay=replay, nonce="n1").ok


def test_presentation_rules() -> None:
    key = generate_dpop_key()
    replay = DpopReplayCache()

    def present(scheme: str, jkt, proof):  # type: ignore[no-untyped-def]
        return verify_dpop_presentation(scheme, TOKEN, jkt=jkt, proof=proof, htm="GET", htu=URL, replay=replay).reason

    proof = create_dpop_proof(key, "GET", URL, access_token=TOKEN)
    assert parse_authorization(f"dpop {TOKEN}") == ("dpop", TOKEN)
    assert parse_authorization("Basic abc") is None
    assert present("bearer", key.thumbprint, None) == "bearer_scheme"
    assert present("dpop", key.thumbprint, None) == "proof_missing"
    assert present("dpop", key.thumbprint, [proof, proof]) == "repeated_header"
    assert present("dpop", None, proof) == "not_bound"
    assert present("bearer", None, None) is None
    assert verify_dpop_presentation("dpop", TOKEN, jkt=key.thumbprint, proof=proof, htm="GET", htu=URL, replay=replay).ok


def test_replay_cache_is_bounded_and_forgets_expired_entries() -> None:
    cache = DpopReplayCache(capacity=2)
    assert [cache.use("a", 100, 10), cache.use("b", 100, 10), cache.use("c", 100, 10)] == ["fresh", "fresh", "full"]
    assert cache.use("a", 100, 50) == "replayed"
    assert cache.use("c", 200, 101) == "fresh"  # a and b expired at 100


def test_htu_normalization() -> None:
    assert normalize_htu("HTTPS://Tools.Example.com:443/v1/run?x=1#y") == URL
    assert normalize_htu("http://h:8080") == "http://h:8080/"
    assert normalize_htu("ftp://h/x") is None
