"""Cursor pagination (``{data, next_cursor}``).

``client.agents.list(...)`` returns a :class:`Pager`: iterate it for every item of every page
(pages after the first are fetched lazily), or use ``.first_page()`` / ``.pages()``. The first page
is fetched by the ``list`` call itself, so a bad filter raises there, as the TS SDK's promise does.
"""
from __future__ import annotations

from typing import Callable, Generic, Iterator, List, Optional, Tuple, TypeVar

T = TypeVar("T")

#: Fetches one page given a cursor (None: the first page) → (items, next_cursor).
PageFetcher = Callable[[Optional[str]], Tuple[List[T], Optional[str]]]

__all__ = ["CursorPage", "Pager", "PageFetcher"]


class CursorPage(Generic[T]):
    """One page: ``data``, ``next_cursor``, ``has_next_page()``, ``next_page()``; iterating it walks
    this page and every following one."""

    def __init__(self, data: List[T], next_cursor: Optional[str], fetch: PageFetcher[T]) -> None:
        self.data = data
        self.next_cursor = next_cursor
        self._fetch = fetch

    @classmethod
    def load(cls, fetch: PageFetcher[T], cursor: Optional[str] = None) -> "CursorPage[T]":
        data, next_cursor = fetch(cursor)
        return cls(data, next_cursor, fetch)

    def has_next_page(self) -> bool:
        return self.next_cursor is not None

    def next_page(self) -> "CursorPage[T]":
        if self.next_cursor is None:
            raise StopIteration("no next page; check has_next_page() first")
        return CursorPage.load(self._fetch, self.next_cursor)

    def iter_pages(self) -> Iterator["CursorPage[T]"]:
        page: CursorPage[T] = self
        yield page
        while page.has_next_page():
            page = page.next_page()
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data

    def __repr__(self) -> str:
        return f"CursorPage(items={len(self.data)}, next_cursor={self.next_cursor!r})"


class Pager(Generic[T]):
    """Every item of a listing, page by page. Re-iterable: each iteration starts again at the first
    page (kept from the ``list`` call) and fetches the following pages anew."""

    def __init__(self, fetch: PageFetcher[T], cursor: Optional[str] = None) -> None:
        self._first = CursorPage.load(fetch, cursor)

    def first_page(self) -> CursorPage[T]:
        return self._first

    def pages(self) -> Iterator[CursorPage[T]]:
        return self._first.iter_pages()

    def __iter__(self) -> Iterator[T]:
        return iter(self._first)

    def to_list(self) -> List[T]:
        """Collects every item of every page (for small result sets)."""
        return list(self)

    def __repr__(self) -> str:
        return f"Pager(first_page={self._first!r})"
