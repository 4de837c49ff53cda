from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from .._transport import QueryValue, RequestOptions, Transport

T = TypeVar("T")


class APIResource:
    """Base of the thin resource classes: each method is one request through the shared transport."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _page_fetcher(
        self,
        path: str,
        query: Dict[str, QueryValue],
        mapper: Callable[[Dict[str, Any]], T],
        options: Optional[RequestOptions],
    ) -> Callable[[Optional[str]], Tuple[List[T], Optional[str]]]:
        def fetch(cursor: Optional[str]) -> Tuple[List[T], Optional[str]]:
            wire = self._transport.request("GET", path, query={**query, "cursor": cursor}, options=options)
            return [mapper(w) for w in wire.get("data") or []], wire.get("next_cursor")

        return fetch
