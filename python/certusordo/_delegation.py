"""Delegation (RFC 8693 token exchange): reading a token's ``act`` claim, as model/delegation.ts does."""
from __future__ import annotations

from typing import Any, List, Optional

#: Deepest ``act`` nesting read (the server caps chains well below it).
_MAX_ACT_NESTING = 10


def actor_chain(act: Any) -> Optional[List[str]]:
    """The actors of an RFC 8693 ``act`` claim, first actor first and the current actor last; ``[]``
    without ``act``; None when it is malformed (not nested objects with a string ``sub`` each)."""
    outermost_first: List[str] = []
    node = act
    while node is not None:
        if not isinstance(node, dict):
            return None
        sub = node.get("sub")
        if not isinstance(sub, str) or not sub:
            return None
        outermost_first.append(sub)
        if len(outermost_first) > _MAX_ACT_NESTING:
            return None
        node = node.get("act")
    return list(reversed(outermost_first))
