"""Server nonces for DPoP proofs at a resource server (RFC 9449 §9): ``ResourceServer(dpop_nonce=…)``.

A nonce stops a client from making proofs ahead of time, and bounds a replayed proof to the
nonce's life on every replica, where the per-process replay cache cannot see it.

``HmacDpopNonces(secret)`` is stateless, in model/dpop-nonce.ts's format (the control plane's and
the TypeScript kit's too): a nonce names a time window and carries an HMAC of it,

    nonce = base36(window) "." base64url(HMAC-SHA256(secret, "dpop-nonce <window>")[:18])

and the current and the previous window's nonces are accepted. Replicas given the same secret —
Python or TypeScript — accept each other's nonces with nothing stored. Any other scheme is an
object with ``current(now)`` and ``accepts(nonce, now)`` (``DpopNonceSource``).
"""
from __future__ import annotations

import hashlib
import hmac
import math
import re
import threading
from typing import Any, Dict, Mapping, Optional, Protocol, Union

from .keys import b64url

__all__ = ["DPOP_NONCE_MAX", "DPOP_NONCE_WINDOW_SECONDS", "DpopNonceSource", "HmacDpopNonces", "is_dpop_nonce_value", "dpop_nonce_source"]

DPOP_NONCE_WINDOW_SECONDS = 60
DPOP_NONCE_MAX = 256
# RFC 9449 §8.1: nonce-value = 1*NQCHAR, printable ASCII without '"' and '\'.
_NQCHARS = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_MAC_BYTES = 18
_MIN_SECRET_BYTES = 32
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def is_dpop_nonce_value(value: Any) -> bool:
    """Whether ``value`` can be a nonce: 1 to DPOP_NONCE_MAX NQCHARs (so also a valid header value)."""
    return isinstance(value, str) and len(value) <= DPOP_NONCE_MAX and _NQCHARS.fullmatch(value) is not None


class DpopNonceSource(Protocol):
    """Where a resource server's nonces come from; ``now`` is the server's clock, epoch seconds."""

    def current(self, now: float) -> str:
        """The nonce to hand clients now (the ``DPoP-Nonce`` header)."""

    def accepts(self, nonce: str, now: float) -> bool:
        """Whether a proof's ``nonce`` is accepted now."""


def _base36(n: int) -> str:
    out = ""
    while True:
        n, d = divmod(n, 36)
        out = _DIGITS[d] + out
        if n == 0:
            return out


class HmacDpopNonces:
    """Stateless windowed HMAC nonces: ``secret`` (str or bytes, at least 32 bytes) is the same on
    every replica; a nonce is accepted for one to two ``window_seconds`` (default 60)."""

    def __init__(self, secret: Union[str, bytes], window_seconds: int = DPOP_NONCE_WINDOW_SECONDS) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if not isinstance(key, (bytes, bytearray)) or len(key) < _MIN_SECRET_BYTES:
            raise TypeError(f"dpop_nonce secret must be at least {_MIN_SECRET_BYTES} bytes, the same on every replica")
        if isinstance(window_seconds, bool) or not isinstance(window_seconds, int) or not 1 <= window_seconds <= 86_400:
            raise TypeError("dpop_nonce window_seconds must be an integer of 1-86400 seconds")
        self._key = bytes(key)
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        # The last few windows' nonces, so a check costs a compare, not an HMAC, per request.
        self._by_window: Dict[int, str] = {}

    def __repr__(self) -> str:  # never the secret
        return f"HmacDpopNonces(window_seconds={self.window_seconds})"

    def _window(self, now: float) -> int:
        return math.floor(now / self.window_seconds)

    def _nonce(self, window: int) -> str:
        with self._lock:
            nonce = self._by_window.get(window)
            if nonce is None:
                mac = hmac.new(self._key, f"dpop-nonce {window}".encode(), hashlib.sha256).digest()[:_MAC_BYTES]
                nonce = f"{_base36(window)}.{b64url(mac)}"
                if len(self._by_window) >= 3:
                    del self._by_window[min(self._by_window)]
                self._by_window[window] = nonce
            return nonce

    def current(self, now: float) -> str:
        return self._nonce(self._window(now))

    def verdict(self, nonce: str, now: float) -> str:
        """``current``, ``previous`` (accepted, from the window before) or ``refused``."""
        current = self._window(now)
        name, dot, _ = nonce.partition(".")
        # The window the nonce names picks the one HMAC to compare; any other window is refused unseen.
        named = int(name, 36) if dot and 0 < len(name) <= 12 and name.isalnum() and name.isascii() else None
        if named not in (current, current - 1):
            return "refused"
        if not hmac.compare_digest(self._nonce(named).encode(), nonce.encode()):
            return "refused"
        return "current" if named == current else "previous"

    def accepts(self, nonce: str, now: float) -> bool:
        return self.verdict(nonce, now) != "refused"


def dpop_nonce_source(option: Union[DpopNonceSource, Mapping[str, Any], None]) -> Optional[DpopNonceSource]:
    """``ResourceServer``'s ``dpop_nonce``: a source as given, or ``{"secret": …, "window_seconds": …}``."""
    if option is None:
        return None
    if isinstance(option, Mapping):
        unknown = set(option) - {"secret", "window_seconds"}
        if unknown or "secret" not in option:
            raise TypeError('dpop_nonce is {"secret": <32+ bytes>, "window_seconds": <int>} or an object with current(now) and accepts(nonce, now)')
        return HmacDpopNonces(option["secret"], int(option.get("window_seconds", DPOP_NONCE_WINDOW_SECONDS)))
    if not callable(getattr(option, "current", None)) or not callable(getattr(option, "accepts", None)):
        raise TypeError("dpop_nonce must have current(now) and accepts(nonce, now)")
    return option
