from __future__ import annotations

from typing import List, Optional

from .._mappers import to_api_key, to_created_api_key
from .._transport import RequestOptions, encode_path
from ..types import ApiKey, ApiKeyRole, CreatedApiKey
from ._base import APIResource


class ApiKeys(APIResource):
    """``client.api_keys``: the organization's API keys (role ``admin``, ``operator``, ``reader`` or ``introspector``)."""

    def create(self, name: str, role: ApiKeyRole, *, options: Optional[RequestOptions] = None) -> CreatedApiKey:
        """Creates a key; ``key`` is returned once. Safe to retry: one Idempotency-Key per call."""
        wire = self._transport.request("POST", "/v1/api-keys", json_body={"name": name, "role": role}, idempotent=True, options=options)
        return to_created_api_key(wire)

    def list(self, *, options: Optional[RequestOptions] = None) -> List[ApiKey]:
        wire = self._transport.request("GET", "/v1/api-keys", options=options)
        return [to_api_key(w) for w in wire.get("data") or []]

    def revoke(self, api_key_id: str, *, options: Optional[RequestOptions] = None) -> ApiKey:
        """Revokes a key; the organization's last active admin key cannot be revoked (``ConflictError``)."""
        return to_api_key(self._transport.request("POST", encode_path("/v1/api-keys/{}/revoke", api_key_id), json_body={}, options=options))
