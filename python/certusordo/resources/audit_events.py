from __future__ import annotations

from datetime import datetime
from typing import Optional, Union

from .._mappers import to_audit_checkpoint, to_audit_event, to_audit_verification
from .._transport import RequestOptions
from ..pagination import CursorPage, Pager
from ..types import AuditCheckpoint, AuditEvent, AuditVerification
from ._base import APIResource

Time = Union[datetime, str]


class AuditEvents(APIResource):
    """``client.audit_events``: the organization's keyed, hash-chained audit log."""

    def list(
        self,
        *,
        agent_id: Optional[str] = None,
        action: Optional[str] = None,
        since: Optional[Time] = None,
        until: Optional[Time] = None,
        order: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> Pager[AuditEvent]:
        """Events in ``seq`` order (``order="desc"``: newest first), every page (iterate the result)."""
        return Pager(self._fetcher(agent_id, action, since, until, order, limit, options), cursor)

    def list_page(
        self,
        *,
        agent_id: Optional[str] = None,
        action: Optional[str] = None,
        since: Optional[Time] = None,
        until: Optional[Time] = None,
        order: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> CursorPage[AuditEvent]:
        return CursorPage.load(self._fetcher(agent_id, action, since, until, order, limit, options), cursor)

    def verify(self, *, checkpoint: Optional[str] = None, full: bool = False, options: Optional[RequestOptions] = None) -> AuditVerification:
        """Verifies the chain on the server from the last verified point (``full=True``, admin: from
        the genesis); with ``checkpoint``, also proves the log still extends that checkpoint."""
        wire = self._transport.request(
            "GET", "/v1/audit-events/verify", query={"checkpoint": checkpoint, "full": "true" if full else None}, options=options
        )
        return to_audit_verification(wire)

    def checkpoint(self, *, options: Optional[RequestOptions] = None) -> AuditCheckpoint:
        """Verifies the chain and returns its head signed with the organization's token signing key."""
        return to_audit_checkpoint(self._transport.request("GET", "/v1/audit-events/checkpoint", options=options))

    def _fetcher(self, agent_id, action, since, until, order, limit, options):  # type: ignore[no-untyped-def]
        query = {"agent_id": agent_id, "action": action, "since": since, "until": until, "order": order, "limit": limit}
        return self._page_fetcher("/v1/audit-events", query, to_audit_event, options)
