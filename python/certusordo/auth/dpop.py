"""DPoP (RFC 9449) on the agent side: a key only this client holds, and a proof per request.

    key = generate_dpop_key()                     # P-256 (ES256); or "EdDSA", or the agent's own key
    proof = create_dpop_proof(key, "GET", url, access_token=token)
    # headers: Authorization: DPoP <token>, DPoP: <proof>

``AgentCredentials(..., dpop=True)`` does this for you (``auth_headers(method, url)``). The proof
rules are the control plane's (model/dpop.ts); this module only makes proofs that satisfy them.
"""
from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any, Dict, Optional, Union
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .keys import b64url

__all__ = [
    "DpopKey",
    "DPOP_PROOF_TYPE",
    "generate_dpop_key",
    "dpop_key_from_seed",
    "create_dpop_proof",
    "access_token_hash",
]

DPOP_PROOF_TYPE = "dpop+jwt"

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
