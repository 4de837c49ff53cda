"""Agent key material: the ``cos_…`` secret format, Ed25519 keys, RFC 7638 key ids, EdDSA JWS."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any, Dict, NamedTuple, Union

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import CertusOrdoError

__all__ = [
    "ParsedAgentSecret",
    "AgentKeyPair",
    "parse_agent_secret",
    "format_agent_secret",
    "public_key_from_private_key",
    "jwk_thumbprint",
    "generate_agent_key_pair",
    "b64url",
    "b64url_decode",
    "sign_jwt",
]

_SECRET = re.compile(
    r"^cos_([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})_([A-Za-z0-9_-]{43})$"
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ValueError("invalid base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ParsedAgentSecret(NamedTuple):
    agent_id: str
    #: The 32-byte Ed25519 private key (seed).
    private_key: bytes

    def __repr__(self) -> str:  # never the private key: the kid says which of the agent's keys it is
        try:
            kid = jwk_thumbprint(public_key_from_private_key(self.private_key))
        except (TypeError, ValueError):  # not a seed: nothing to name
            return f"ParsedAgentSecret(agent_id={self.agent_id!r})"
        return f"ParsedAgentSecret(agent_id={self.agent_id!r}, kid={kid!r})"


class AgentKeyPair(NamedTuple):
    private_key: bytes
    #: base64url of the 32 raw public-key bytes: pass it as ``public_key`` when creating the agent.
    public_key: str
    kid: str

    def __repr__(self) -> str:  # never the private key
        return f"AgentKeyPair(public_key={self.public_key!r}, kid={self.kid!r})"


def parse_agent_secret(secret: str) -> ParsedAgentSecret:
    """Splits ``cos_<agent uuid>_<base64url(32-byte seed)>``. The error never repeats the input: a
    mistyped secret is still mostly a secret."""
    m = _SECRET.match(secret.strip()) if isinstance(secret, str) else None
    if not m:
        raise CertusOrdoError("malformed agent secret: expected cos_<agent id>_<43 base64url characters>", code="invalid_secret")
    seed = b64url_decode(m.group(2))
    if len(seed) != 32:
        raise CertusOrdoError("malformed agent secret: key must be 32 bytes", code="invalid_secret")
    return ParsedAgentSecret(m.group(1).lower(), seed)


def format_agent_secret(agent_id: str, private_key: bytes) -> str:
    return f"cos_{agent_id}_{b64url(private_key)}"


def public_key_from_private_key(private_key: bytes) -> bytes:
    """The raw 32-byte Ed25519 public key of a seed."""
    return Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def jwk_thumbprint(public_key: Union[bytes, str]) -> str:
    """RFC 7638 thumbprint (base64url SHA-256) of an Ed25519 public key: the ``kid`` the API uses."""
    x = public_key if isinstance(public_key, str) else b64url(public_key)
    # Required members only, lexicographic order, no whitespace (RFC 7638 §3.2).
    return b64url(hashlib.sha256(f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()).digest())


def generate_agent_key_pair() -> AgentKeyPair:
    """A fresh key pair, e.g. to register an agent with your own ``public_key`` (the seed never leaves you)."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return AgentKeyPair(seed, b64url(pub), jwk_thumbprint(pub))


def _segment(obj: Dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def sign_jwt(header: Dict[str, Any], claims: Dict[str, Any], private_key: bytes) -> str:
    """Signs ``header.claims`` as a compact EdDSA JWS (RFC 8037)."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


def ed25519_public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)
