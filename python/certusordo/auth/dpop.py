"""DPoP (RFC 9449) on the agent side: a key only this client holds, and a proof per request.

    key = generate_dpop_key()                     # P-256 (ES256); or "EdDSA", or the agent's own key
    proof = create_dpop_proof(key, "GET", url, access_token=token)
    # headers: Authorization: DPoP <token>, DPoP: <proof>

``AgentCredentials(..., dpop=True)`` does this for you (``auth_headers(method, url, resource=...)``).

A resource server checks what it receives with ``verify_dpop_presentation`` (or
``verify_dpop_proof``) and one ``DpopReplayCache`` per process. The checks, their order and their
error codes are model/dpop.ts's, the code the control plane and the TypeScript SDK run, transcribed;
python/tests/test_dpop.py holds this copy to the same cases.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, Union
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .dpop_nonce import DPOP_NONCE_MAX, is_dpop_nonce_value
from .keys import b64url, b64url_decode

__all__ = [
    "DpopKey",
    "DPOP_PROOF_TYPE",
    "generate_dpop_key",
    "dpop_key_from_seed",
    "create_dpop_proof",
    "access_token_hash",
    "DpopReplayCache",
    "DpopResult",
    "normalize_htu",
    "parse_authorization",
    "verify_dpop_proof",
    "verify_dpop_presentation",
]

DPOP_PROOF_TYPE = "dpop+jwt"
DPOP_SIGNING_ALGS = ("EdDSA", "Ed25519", "ES256")
DPOP_PROOF_MAX_AGE_SECONDS = 60
DPOP_CLOCK_SKEW_SECONDS = 5
DPOP_JTI_MAX = 256
DPOP_REPLAY_CACHE_CAPACITY = 100_000
_MAX_PROOF_LENGTH = 8192
_PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_COORDINATE = re.compile(r"^[A-Za-z0-9_-]{43}$")

PrivateKey = Union[Ed25519PrivateKey, ec.EllipticCurvePrivateKey]


class DpopKey:
    """A DPoP private key (Ed25519, or P-256 for ES256) with its public JWK and thumbprint."""

    def __init__(self, private_key: PrivateKey) -> None:
        if isinstance(private_key, Ed25519PrivateKey):
            self.alg = "EdDSA"
            raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            self.public_jwk: Dict[str, str] = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
            thumbprint_input = f'{{"crv":"Ed25519","kty":"OKP","x":"{self.public_jwk["x"]}"}}'
        elif isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1):
            self.alg = "ES256"
            numbers = private_key.public_key().public_numbers()
            x, y = b64url(numbers.x.to_bytes(32, "big")), b64url(numbers.y.to_bytes(32, "big"))
            self.public_jwk = {"kty": "EC", "crv": "P-256", "x": x, "y": y}
            thumbprint_input = f'{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}'
        else:
            raise TypeError("a DPoP key is an Ed25519 or a P-256 private key")
        self._private_key = private_key
        #: RFC 7638 thumbprint: the ``cnf.jkt`` of the tokens bound to this key.
        self.thumbprint = b64url(hashlib.sha256(thumbprint_input.encode()).digest())

    def sign(self, data: bytes) -> bytes:
        if isinstance(self._private_key, Ed25519PrivateKey):
            return self._private_key.sign(data)
        # JWS carries ES256 signatures as r || s, not DER.
        r, s = decode_dss_signature(self._private_key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def __repr__(self) -> str:  # never the private key
        return f"DpopKey(alg={self.alg!r}, thumbprint={self.thumbprint!r})"


def generate_dpop_key(alg: str = "ES256") -> DpopKey:
    """A fresh DPoP key: ``ES256`` (P-256, the default) or ``EdDSA`` (Ed25519)."""
    if alg == "ES256":
        return DpopKey(ec.generate_private_key(ec.SECP256R1()))
    if alg == "EdDSA":
        return DpopKey(Ed25519PrivateKey.generate())
    raise ValueError("alg must be ES256 or EdDSA")


def dpop_key_from_seed(seed: bytes) -> DpopKey:
    """An Ed25519 seed (e.g. the agent's own key) as a DPoP key."""
    return DpopKey(Ed25519PrivateKey.from_private_bytes(seed))


def access_token_hash(access_token: str) -> str:
    """The proof's ``ath``: base64url(SHA-256(token))."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


def _segment(obj: Dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def create_dpop_proof(
    key: DpopKey,
    htm: str,
    htu: str,
    *,
    access_token: Optional[str] = None,
    nonce: Optional[str] = None,
    now: Optional[float] = None,
) -> str:
    """A proof for one request (RFC 9449 §4.2), with a fresh ``jti``: make one per request."""
    parts = urlsplit(htu)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("htu must be an absolute http(s) URL")
    claims: Dict[str, Any] = {
        "jti": str(uuid.uuid4()),
        "htm": htm.upper(),
        "htu": urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", "")),
        "iat": int(time.time() if now is None else now),
    }
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if nonce is not None:
        claims["nonce"] = nonce
    signing_input = f"{_segment({'typ': DPOP_PROOF_TYPE, 'alg': key.alg, 'jwk': key.public_jwk})}.{_segment(claims)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"


# ---- resource servers: checking proofs ----------------------------------------------------------


class DpopReplayCache:
    """The ``jti``s of accepted proofs within their window, per process and bounded (thread-safe).
    Full of live entries it refuses new proofs rather than forget one that could be replayed.
    Several replicas each keep their own: a shared store closes that gap (docs/auth.md §2.2)."""

    def __init__(self, capacity: int = DPOP_REPLAY_CACHE_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._seen: Dict[str, float] = {}
        self._swept_at = float("-inf")
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def use(self, key: str, expires_at: float, now: float) -> str:
        """``fresh`` the first time within its window, ``replayed`` after, ``full`` when no room is left."""
        with self._lock:
            until = self._seen.get(key)
            if until is not None and until >= now:
                return "replayed"
            self._seen.pop(key, None)
            if len(self._seen) >= self.capacity:
                if now > self._swept_at:  # at most one full sweep per second
                    self._swept_at = now
                    for k in [k for k, t in self._seen.items() if t < now]:
                        del self._seen[k]
                if len(self._seen) >= self.capacity:
                    return "full"
            self._seen[key] = expires_at
            return "fresh"


@dataclass(frozen=True)
class DpopResult:
    """A check's outcome: ``ok`` with the proof key's ``jkt``, or the ``error`` to answer 401 with
    (``WWW-Authenticate: DPoP error="<error>"``), a ``reason`` word and a ``message`` that never
    quotes the proof or the token."""

    ok: bool
    jkt: Optional[str] = None
    jti: Optional[str] = None
    #: The accepted proof's ``nonce`` claim, when it carries one.
    nonce: Optional[str] = None
    error: Optional[str] = None
    reason: Optional[str] = None
    message: Optional[str] = None


def _fail(reason: str, message: str, error: str = "invalid_dpop_proof") -> DpopResult:
    return DpopResult(ok=False, error=error, reason=reason, message=message)


def normalize_htu(url: str) -> Optional[str]:
    """A URL as RFC 9449 §4.3 compares ``htu``: lowercase scheme and host, no default port, no query
    or fragment. None when it is not an absolute http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def parse_authorization(header: Optional[str]) -> Optional[Tuple[str, str]]:
    """``(scheme, token)`` of ``Authorization: Bearer <token>`` or ``DPoP <token>``, scheme in lowercase."""
    m = re.fullmatch(r"(Bearer|DPoP)\s+(\S+)\s*", header or "", re.IGNORECASE)
    return (m.group(1).lower(), m.group(2)) if m else None


def _decode(proof: str) -> Optional[Tuple[Dict[str, Any], Dict[str, Any], str, bytes]]:
    if not isinstance(proof, str) or len(proof) > _MAX_PROOF_LENGTH:
        return None
    parts = proof.split(".")
    if len(parts) != 3 or not all(parts):
        return None
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError:
        return None
    if not isinstance(header, dict) or not isinstance(payload, dict) or len(signature) != 64:
        return None
    return header, payload, f"{parts[0]}.{parts[1]}", signature


def _public_jwk(value: Any, alg: str) -> Union[Dict[str, str], str]:
    if not isinstance(value, dict):
        return "the DPoP proof header must carry the public key as a jwk object"
    if any(m in value for m in _PRIVATE_JWK_MEMBERS):
        return "the DPoP proof jwk must be a public key (it carries private key members)"

    def coordinate(v: Any) -> bool:
        return isinstance(v, str) and bool(_COORDINATE.match(v))

    if alg == "ES256":
        if value.get("kty") != "EC" or value.get("crv") != "P-256" or not coordinate(value.get("x")) or not coordinate(value.get("y")):
            return "alg ES256 needs a P-256 jwk (kty EC, crv P-256, x, y)"
        return {"kty": "EC", "crv": "P-256", "x": value["x"], "y": value["y"]}
    if value.get("kty") != "OKP" or value.get("crv") != "Ed25519" or not coordinate(value.get("x")):
        return f"alg {alg} needs an Ed25519 jwk (kty OKP, crv Ed25519, x)"
    return {"kty": "OKP", "crv": "Ed25519", "x": value["x"]}


def _verify_signature(jwk: Dict[str, str], signing_input: str, signature: bytes) -> bool:
    data = signing_input.encode("ascii")
    try:
        if jwk["kty"] == "OKP":
            Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).verify(signature, data)
        else:
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(b64url_decode(jwk["x"]), "big"), int.from_bytes(b64url_decode(jwk["y"]), "big"), ec.SECP256R1()
            )
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            numbers.public_key().verify(der, data, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False  # a point not on the curve, for one


def _thumbprint(jwk: Dict[str, str]) -> str:
    if jwk["kty"] == "OKP":
        text = f'{{"crv":"Ed25519","kty":"OKP","x":"{jwk["x"]}"}}'
    else:
        text = f'{{"crv":"P-256","kty":"EC","x":"{jwk["x"]}","y":"{jwk["y"]}"}}'
    return b64url(hashlib.sha256(text.encode()).digest())


def verify_dpop_proof(
    proof: str,
    *,
    htm: str,
    htu: str,
    replay: DpopReplayCache,
    access_token: Optional[str] = None,
    expected_jkt: Optional[str] = None,
    now: Optional[float] = None,
    max_age: int = DPOP_PROOF_MAX_AGE_SECONDS,
    nonce: Union[str, Callable[[str], bool], None] = None,
) -> DpopResult:
    """Checks a DPoP proof against a request (RFC 9449 §4.3), in model/dpop.ts's order: form, type,
    algorithm, public key, signature, jti, method, URL, age, nonce, token hash, key binding; then,
    only when all passed, remembers its ``jti``. Never raises for a bad proof."""
    decoded = _decode(proof)
    if decoded is None:
        return _fail("malformed", "The DPoP header is not a compact JWS")
    h, p, signing_input, signature = decoded
    if h.get("typ") != DPOP_PROOF_TYPE:
        return _fail("bad_typ", f"The DPoP proof typ must be {DPOP_PROOF_TYPE}")
    alg = h.get("alg")
    if alg not in DPOP_SIGNING_ALGS:
        return _fail("unsupported_alg", f"The DPoP proof alg must be one of {', '.join(DPOP_SIGNING_ALGS)}")
    if "crit" in h:
        return _fail("crit_header", "The DPoP proof uses unsupported critical headers")
    jwk = _public_jwk(h.get("jwk"), alg)
    if isinstance(jwk, str):
        return _fail("bad_jwk", jwk)
    if not _verify_signature(jwk, signing_input, signature):
        return _fail("bad_signature", "The DPoP proof signature does not verify with its jwk")
    jti = p.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= DPOP_JTI_MAX:
        return _fail("bad_jti", f"The DPoP proof must carry a jti of 1-{DPOP_JTI_MAX} characters")
    if p.get("htm") != htm:
        return _fail("htm_mismatch", f"The DPoP proof htm must be this request's method ({htm})")
    expected_htu = normalize_htu(htu)
    if not isinstance(p.get("htu"), str) or expected_htu is None or normalize_htu(p["htu"]) != expected_htu:
        return _fail("htu_mismatch", f"The DPoP proof htu must be this request's URL ({expected_htu or 'unknown'})")
    now_s = int(time.time() if now is None else now)
    iat = p.get("iat")
    if not isinstance(iat, (int, float)) or isinstance(iat, bool):
        return _fail("bad_iat", "The DPoP proof must carry a numeric iat")
    if iat > now_s + DPOP_CLOCK_SKEW_SECONDS:
        return _fail("iat_future", "The DPoP proof iat is in the future")
    if iat < now_s - max_age:
        return _fail("iat_stale", f"The DPoP proof is too old (iat more than {max_age} seconds ago)")
    got = p.get("nonce")
    # A nonce is a server's NQCHAR string (RFC 9449 §8.1): anything else is no nonce of anyone's.
    if "nonce" in p and not is_dpop_nonce_value(got):
        return _fail("bad_nonce", f"The DPoP proof nonce must be a string of 1-{DPOP_NONCE_MAX} printable ASCII characters (RFC 9449 NQCHAR)")
    if nonce is not None:
        accepted = got is not None and (hmac.compare_digest(got.encode(), nonce.encode()) if isinstance(nonce, str) else nonce(got))
        if not accepted:
            return _fail(
                "nonce_missing" if got is None else "nonce_invalid",
                "The DPoP proof must carry the server's current nonce (DPoP-Nonce header)",
                "use_dpop_nonce",
            )
    if access_token is not None:
        if not isinstance(p.get("ath"), str):
            return _fail("ath_missing", "The DPoP proof must carry ath, the hash of the access token")
        if p["ath"] != access_token_hash(access_token):
            return _fail("ath_mismatch", "The DPoP proof ath is not the hash of this access token")
    jkt = _thumbprint(jwk)
    if expected_jkt is not None and jkt != expected_jkt:
        return _fail("jkt_mismatch", "The DPoP proof is not signed with the key this token is bound to")
    outcome = replay.use(f"{jkt} {jti}", iat + max_age, now_s)
    if outcome == "replayed":
        return _fail("replayed", "The DPoP proof was already used (jti replay); make a new proof for each request")
    if outcome == "full":
        return _fail("replay_cache_full", "Too many DPoP proofs within the window; retry with a new proof")
    return DpopResult(ok=True, jkt=jkt, jti=jti, nonce=got)


def verify_dpop_presentation(
    scheme: str,
    token: str,
    *,
    jkt: Optional[str],
    proof: Union[str, List[str], None],
    htm: str,
    htu: str,
    replay: DpopReplayCache,
    now: Optional[float] = None,
    max_age: int = DPOP_PROOF_MAX_AGE_SECONDS,
    nonce: Union[str, Callable[[str], bool], None] = None,
) -> DpopResult:
    """Whether a resource may accept a verified token as presented: a DPoP-bound token (``jkt``,
    from ``verify_access_token``) only as ``Authorization: DPoP`` with one proof for this request
    by its key; a bearer token only as ``Bearer``. ``proof``: the request's ``DPoP`` header value(s)."""
    if jkt is None:
        if scheme == "dpop":
            return _fail("not_bound", "This access token is not DPoP-bound: send it as Authorization: Bearer", "invalid_token")
        return DpopResult(ok=True)
    if scheme != "dpop":
        return _fail("bearer_scheme", "This access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof header")
    proofs = [proof] if isinstance(proof, str) else list(proof or [])
    if not proofs:
        return _fail("proof_missing", "A DPoP proof header is required with Authorization: DPoP")
    if len(proofs) > 1:
        return _fail("repeated_header", "Send one DPoP header")
    return verify_dpop_proof(
        proofs[0], htm=htm, htu=htu, replay=replay, access_token=token, expected_jkt=jkt, now=now, max_age=max_age, nonce=nonce
    )
