from __future__ import annotations

import os
from typing import Optional

from ._transport import DEFAULT_BASE_URL


def read_env(name: str) -> Optional[str]:
    value = os.environ.get(name, "").strip()
    return value or None


def resolve_base_url(explicit: Optional[str]) -> str:
    """An explicit base URL, else ``CERTUSORDO_ENDPOINT``, else the server's default address."""
    return explicit or read_env("CERTUSORDO_ENDPOINT") or DEFAULT_BASE_URL
