"""For relying services: verify a CertusOrdo access token locally against YOUR organization's keys.

Every organization is its own issuer, ``<base_url>/orgs/<organization id>``, with its own RFC 8414
metadata and JWKS. Requiring that issuer (and its keys) is what keeps other organizations' agents
out: their tokens carry another ``iss`` and are signed with other keys. Compare
``CertusOrdoClient.introspect``, which asks the server and also sees revocations made since the
token was issued.

The checks are RFC 9068's: compact JWS, ``alg`` EdDSA (Ed25519, via ``cryptography``), header
``typ`` ``at+jwt``, signature by a key of the issuer's JWKS, ``iss`` exactly the issuer, ``exp`` in the
future (with ``clock_tolerance``), ``nbf`` not in the future, and ``aud`` containing ``audience``
when given. Failures are ``TokenVerificationError`` with the same ``code`` values as jose (the TS
SDK): ``ERR_JWS_INVALID``, ``ERR_JWT_INVALID``, ``ERR_JOSE_ALG_NOT_ALLOWED``,
``ERR_JWKS_NO_MATCHING_KEY``, ``ERR_JWS_SIGNATURE_VERIFICATION_FAILED``, ``ERR_JWT_EXPIRED``,
``ERR_JWT_CLAIM_VALIDATION_FAILED``. Configuration and network problems (unknown organization,
unreachable server, metadata naming another issuer) are other ``CertusOrdoError`` subclasses: do not
turn those into a 401 for the agent.
"""
from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .._datetime import UTCDateTime
from .._mappers import bound_jkt
from .._version import __version__
from ..errors import APIConnectionError, APITimeoutError, CertusOrdoError, TokenVerificationError, generate
from .._delegation import actor_chain
from ..types import VerifiedAccessToken
from .keys import b64url_decode

__all__ = ["verify_access_token", "organization_issuer", "authorization_server_metadata_url", "JWKSCache"]

DEFAULT_TIMEOUT = 5.0


def organization_issuer(base_url: str, organization_id: str) -> str:
    """An organization's issuer: ``<base_url>/orgs/<organization id>``."""
    if not organization_id:
        raise TypeError("organization_id is required")
    return f"{base_url.rstrip('/')}/orgs/{quote(organization_id, safe='')}"


def authorization_server_metadata_url(issuer: str) -> str:
    """The RFC 8414 §3.1 metadata URL of an issuer: the well-known segment goes between host and path."""
    u = urlsplit(issuer)
    return f"{u.scheme}://{u.netloc}/.well-known/oauth-authorization-server{u.path.rstrip('/')}"


def _is_absolute(url: str) -> bool:
    u = urlsplit(url)
    return u.scheme in ("http", "https") and bool(u.netloc)


def _get_json(url: str, timeout: float, what: str) -> Any:
    req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": f"certusordo-sdk-python/{__version__}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:  # noqa: S310 (http(s) URLs only, checked)
            body = res.read()
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        raise generate(err.code, parsed, dict(err.headers.items()) if err.headers else None) from None
    except (socket.timeout, TimeoutError) as err:
        raise APITimeoutError(f"timed out fetching the {what}") from err
    except urllib.error.URLError as err:
        if isinstance(err.reason, (socket.timeout, TimeoutError)):
            raise APITimeoutError(f"timed out fetching the {what}") from err
        raise APIConnectionError(f"could not fetch the {what}") from err
    except OSError as err:
        raise APIConnectionError(f"could not fetch the {what}") from err
    try:
        return json.loads(body)
    except ValueError:
        raise CertusOrdoError(f"the {what} is not JSON", code="invalid_metadata") from None


class JWKSCache:
    """Public keys per JWKS URL and ``jwks_uri`` per issuer, shared by every call in the process.

    A key set is fetched once and reused for ``max_age`` seconds; a token whose ``kid`` is not in
    it triggers one refetch (signing keys rotate), at most once per ``cooldown`` seconds per URL, so
    a flood of tokens with made-up ``kid``s cannot make the service hammer the control plane.
    ``clock`` is monotonic seconds (injectable for tests).
    """

    def __init__(self, *, max_age: float = 600.0, cooldown: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: Dict[str, Tuple[float, Dict[str, Ed25519PublicKey], List[Ed25519PublicKey]]] = {}
        self._discovered: Dict[str, str] = {}

    def jwks_uri(self, issuer: str, timeout: float) -> str:
        with self._lock:
            found = self._discovered.get(issuer)
        if found is not None:
            return found
        metadata = _get_json(authorization_server_metadata_url(issuer), timeout, "authorization server metadata")
        if not isinstance(metadata, dict) or metadata.get("issuer") != issuer:
            # RFC 8414 §3.3: the metadata must name the very issuer it was fetched for.
            raise CertusOrdoError("the authorization server metadata names another issuer", code="invalid_metadata")
        uri = metadata.get("jwks_uri")
        if not isinstance(uri, str) or not _is_absolute(uri):
            raise CertusOrdoError("the authorization server metadata has no valid jwks_uri", code="invalid_metadata")
        with self._lock:
            self._discovered[issuer] = uri
        return uri

    def key(self, url: str, kid: Optional[str], timeout: float) -> Ed25519PublicKey:
        now = self._clock()
        with self._lock:
            entry = self._keys.get(url)
        if entry is None or now - entry[0] >= self.max_age:
            entry = self._fetch(url, timeout)
        found = self._pick(entry, kid)
        if found is None and now - entry[0] >= self.cooldown:
            entry = self._fetch(url, timeout)
            found = self._pick(entry, kid)
        if found is None:
            raise TokenVerificationError("no applicable key found in the JSON Web Key Set", code="ERR_JWKS_NO_MATCHING_KEY")
        return found

    @staticmethod
    def _pick(entry: Tuple[float, Dict[str, Ed25519PublicKey], List[Ed25519PublicKey]], kid: Optional[str]) -> Optional[Ed25519PublicKey]:
        if kid is not None:
            return entry[1].get(kid)
        return entry[2][0] if len(entry[2]) == 1 else None

    def _fetch(self, url: str, timeout: float) -> Tuple[float, Dict[str, Ed25519PublicKey], List[Ed25519PublicKey]]:
        body = _get_json(url, timeout, "JWKS")
        by_kid: Dict[str, Ed25519PublicKey] = {}
        all_keys: List[Ed25519PublicKey] = []
        for jwk in body.get("keys", []) if isinstance(body, dict) else []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
                continue
            if jwk.get("use") not in (None, "sig") or jwk.get("alg") not in (None, "EdDSA", "Ed25519"):
                continue
            try:
                key = Ed25519PublicKey.from_public_bytes(b64url_decode(str(jwk.get("x", ""))))
            except ValueError:
                continue
            all_keys.append(key)
            if isinstance(jwk.get("kid"), str):
                by_kid[jwk["kid"]] = key
        entry = (self._clock(), by_kid, all_keys)
        with self._lock:
            self._keys[url] = entry
        return entry

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._discovered.clear()


_default_cache = JWKSCache()


def _fail(message: str, code: str) -> TokenVerificationError:
    return TokenVerificationError(message, code=code)


def _decode_segment(segment: str, what: str) -> Any:
    try:
        return json.loads(b64url_decode(segment))
    except (ValueError, UnicodeDecodeError):
        raise _fail(f"invalid {what}", "ERR_JWS_INVALID" if what == "protected header" else "ERR_JWT_INVALID") from None


def verify_access_token(
    token: str,
    *,
    issuer: str,
    jwks_url: Optional[str] = None,
    audience: Union[str, Sequence[str], None] = None,
    clock_tolerance: float = 5.0,
    timeout: float = DEFAULT_TIMEOUT,
    now: Optional[float] = None,
    jwks_cache: Optional[JWKSCache] = None,
    max_delegation_depth: Optional[int] = None,
) -> VerifiedAccessToken:
    """Verifies a CertusOrdo access token for a relying service; returns its claims.

    ``issuer`` is required: your organization's issuer, ``organization_issuer(base_url, org_id)``.
    ``jwks_url`` skips discovery (default: the ``jwks_uri`` of the issuer's RFC 8414 metadata,
    fetched once). ``audience``: your service's URI (any one of a list must be in ``aud``); agents
    request such tokens with ``get_token(resource=...)``. ``now`` (epoch seconds) is for tests.

    Delegated tokens (RFC 8693: an agent acting for another, the ``act`` claim) are accepted by
    default: ``sub`` is the agent represented, ``actors`` who acts for it (first actor first, the
    current one last). ``max_delegation_depth=0`` refuses every delegated token; N accepts chains
    of at most N actors.
    """
    if max_delegation_depth is not None and (isinstance(max_delegation_depth, bool) or not isinstance(max_delegation_depth, int) or max_delegation_depth < 0):
        raise TypeError("max_delegation_depth must be an integer >= 0")
    if not isinstance(issuer, str) or not issuer:
        raise TypeError("verify_access_token needs the issuer of your organization: organization_issuer(base_url, org_id)")
    if not _is_absolute(issuer):
        raise TypeError("issuer must be an absolute http(s) URL")
    cache = jwks_cache or _default_cache
    url = jwks_url or cache.jwks_uri(issuer, timeout)

    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise _fail("Invalid Compact JWS", "ERR_JWS_INVALID")
    header = _decode_segment(parts[0], "protected header")
    if not isinstance(header, dict):
        raise _fail("invalid protected header", "ERR_JWS_INVALID")
    if header.get("alg") != "EdDSA":
        raise _fail('"alg" (Algorithm) Header Parameter value not allowed', "ERR_JOSE_ALG_NOT_ALLOWED")
    if "crit" in header:
        raise _fail('unsupported "crit" header parameter', "ERR_JWS_INVALID")
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    key = cache.key(url, kid, timeout)
    try:
        signature = b64url_decode(parts[2])
        key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except (InvalidSignature, ValueError, UnicodeEncodeError):
        raise _fail("signature verification failed", "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") from None

    claims = _decode_segment(parts[1], "JWT Claims Set")
    if not isinstance(claims, dict):
        raise _fail("JWT Claims Set must be a top-level JSON object", "ERR_JWT_INVALID")
    typ = header.get("typ")
    normalized = typ.lower().replace("application/", "", 1) if isinstance(typ, str) else None
    if normalized != "at+jwt":
        raise _fail('unexpected "typ" JWT header value', "ERR_JWT_CLAIM_VALIDATION_FAILED")
    for claim in ("iss", "sub", "exp"):
        if claim not in claims:
            raise _fail(f'missing required "{claim}" claim', "ERR_JWT_CLAIM_VALIDATION_FAILED")
    if claims["iss"] != issuer:
        raise _fail('unexpected "iss" claim value', "ERR_JWT_CLAIM_VALIDATION_FAILED")
    current = time.time() if now is None else now
    exp = claims["exp"]
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise _fail('"exp" claim must be a number', "ERR_JWT_INVALID")
    if exp <= current - clock_tolerance:
        raise _fail('"exp" claim timestamp check failed', "ERR_JWT_EXPIRED")
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, (int, float)) or nbf > current + clock_tolerance):
        raise _fail('"nbf" claim timestamp check failed', "ERR_JWT_CLAIM_VALIDATION_FAILED")
    aud_claim = claims.get("aud")
    aud_list = [aud_claim] if isinstance(aud_claim, str) else [a for a in aud_claim if isinstance(a, str)] if isinstance(aud_claim, list) else []
    if audience is not None:
        wanted = [audience] if isinstance(audience, str) else list(audience)
        if not any(a in aud_list for a in wanted):
            raise _fail('unexpected "aud" claim value', "ERR_JWT_CLAIM_VALIDATION_FAILED")
    if not isinstance(claims["sub"], str):
        raise _fail('"sub" claim must be a string', "ERR_JWT_INVALID")

    actors = actor_chain(claims.get("act"))
    if actors is None:
        raise _fail("the act claim is malformed", "ERR_DELEGATION_MALFORMED")
    if max_delegation_depth is not None and len(actors) > max_delegation_depth:
        message = "delegated tokens are not accepted here" if max_delegation_depth == 0 else f"the delegation chain has {len(actors)} actors; at most {max_delegation_depth} are accepted here"
        raise _fail(message, "ERR_DELEGATION_DEPTH")

    from datetime import datetime, timezone

    scope = claims.get("scope") if isinstance(claims.get("scope"), str) else ""

    def opt(name: str) -> Optional[str]:
        v = claims.get(name)
        return v if isinstance(v, str) else None

    return VerifiedAccessToken(
        sub=claims["sub"],
        actors=actors,
        actor=actors[-1] if actors else claims["sub"],
        scopes=[s for s in scope.split(" ") if s],
        client_id=opt("client_id"),
        sid=opt("sid"),
        organization_id=opt("org_id"),
        audience=aud_list,
        expires_at=UTCDateTime.from_datetime(datetime.fromtimestamp(exp, timezone.utc)),
        payload=claims,
        jkt=bound_jkt(claims),
    )
