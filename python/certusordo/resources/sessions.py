from __future__ import annotations

from typing import Optional

from .._mappers import defined, to_session
from .._transport import RequestOptions, encode_path
from ..pagination import CursorPage, Pager
from ..types import Session, SessionStatus
from ._base import APIResource


class Sessions(APIResource):
    """``client.sessions``: agents' bounded sessions, seen from the organization (agents open them
    with ``AgentCredentials.open_session``). Reading needs a ``reader`` key; recording operations and
    ending a session need ``operator`` or ``admin``."""

    def list(
        self,
        *,
        agent_id: Optional[str] = None,
        status: Optional[SessionStatus] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> Pager[Session]:
        """Sessions in creation order, every page (iterate the result)."""
        return Pager(self._fetcher(agent_id, status, limit, options), cursor)

    def list_page(
        self,
        *,
        agent_id: Optional[str] = None,
        status: Optional[SessionStatus] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> CursorPage[Session]:
        return CursorPage.load(self._fetcher(agent_id, status, limit, options), cursor)

    def get(self, session_id: str, *, options: Optional[RequestOptions] = None) -> Session:
        return to_session(self._transport.request("GET", encode_path("/v1/sessions/{}", session_id), options=options))

    def record_operation(
        self, session_id: str, scope: str, description: Optional[str] = None, *, options: Optional[RequestOptions] = None
    ) -> Session:
        """Records one operation done on the session's behalf, spending one unit of its budget.

        A refusal is a ``PermissionDeniedError`` whose ``details[0].message`` is the reason
        (``scope_not_in_session``, ``budget_exhausted``, ``session_expired`` …). Not retried unless
        ``options={"max_retries": n}``: a lost answer could otherwise spend the budget twice.
        """
        wire = self._transport.request(
            "POST",
            encode_path("/v1/sessions/{}/operations", session_id),
            json_body=defined(scope=scope, description=description),
            options={"max_retries": 0, **(options or {})},  # type: ignore[typeddict-item]
        )
        return to_session(wire)

    def end(self, session_id: str, *, options: Optional[RequestOptions] = None) -> Session:
        """Ends the session (idempotent); its token becomes inactive at once (``ended_by_api_key``)."""
        return to_session(self._transport.request("DELETE", encode_path("/v1/sessions/{}", session_id), options=options))

    def _fetcher(self, agent_id, status, limit, options):  # type: ignore[no-untyped-def]
        return self._page_fetcher("/v1/sessions", {"agent_id": agent_id, "status": status, "limit": limit}, to_session, options)
