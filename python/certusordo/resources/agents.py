from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Union

from .._mappers import defined, to_agent, to_agent_key, to_created_agent, to_federated_credential, to_plain_agent_key
from .._transport import RequestOptions, encode_path
from ..pagination import CursorPage, Pager
from ..types import Agent, AgentKey, AgentStatus, CreatedAgent, CreatedAgentKey, FederatedCredential
from ._base import APIResource


class AgentKeys(APIResource):
    """An agent's Ed25519 keys (rotation without changing the agent's id): ``client.agents.keys``."""

    def list(self, agent_id: str, *, options: Optional[RequestOptions] = None) -> List[AgentKey]:
        wire = self._transport.request("GET", encode_path("/v1/agents/{}/keys", agent_id), options=options)
        return [to_plain_agent_key(w) for w in wire.get("data") or []]

    def create(self, agent_id: str, *, public_key: Optional[str] = None, options: Optional[RequestOptions] = None) -> CreatedAgentKey:
        """Adds a key. Without ``public_key`` the server generates one and returns its ``secret`` once.
        Safe to retry: one Idempotency-Key per call."""
        wire = self._transport.request(
            "POST",
            encode_path("/v1/agents/{}/keys", agent_id),
            json_body=defined(public_key=public_key),
            idempotent=True,
            options=options,
        )
        return to_agent_key(wire)

    def revoke(self, agent_id: str, kid: str, *, options: Optional[RequestOptions] = None) -> AgentKey:
        """Revokes one key; the last active key cannot be revoked (``ConflictError``)."""
        wire = self._transport.request("DELETE", encode_path("/v1/agents/{}/keys/{}", agent_id, kid), options=options)
        return to_plain_agent_key(wire)


class FederatedCredentials(APIResource):
    """An agent's federated credentials — workloads whose platform tokens authenticate it, with no
    secret anywhere: ``client.agents.federated_credentials``."""

    def list(self, agent_id: str, *, options: Optional[RequestOptions] = None) -> List[FederatedCredential]:
        wire = self._transport.request("GET", encode_path("/v1/agents/{}/federated-credentials", agent_id), options=options)
        return [to_federated_credential(w) for w in wire.get("data") or []]

    def create(
        self,
        agent_id: str,
        *,
        issuer: str,
        subject: str,
        audience: Optional[str] = None,
        claims: Optional[Dict[str, Any]] = None,
        jwks: Optional[Dict[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> FederatedCredential:
        """Trusts one more workload (at most 20 active per agent; ``ConflictError`` beyond). Safe to retry."""
        wire = self._transport.request(
            "POST",
            encode_path("/v1/agents/{}/federated-credentials", agent_id),
            json_body=defined(issuer=issuer, subject=subject, audience=audience, claims=claims, jwks=jwks),
            idempotent=True,
            options=options,
        )
        return to_federated_credential(wire)

    def revoke(self, agent_id: str, credential_id: str, *, options: Optional[RequestOptions] = None) -> FederatedCredential:
        """Removes one; the agent's last key or credential cannot be removed (``ConflictError``)."""
        wire = self._transport.request("DELETE", encode_path("/v1/agents/{}/federated-credentials/{}", agent_id, credential_id), options=options)
        return to_federated_credential(wire)


class Agents(APIResource):
    """``client.agents``: register, list, inspect, change, suspend, activate and revoke agents."""

    def __init__(self, transport) -> None:  # type: ignore[no-untyped-def]
        super().__init__(transport)
        #: Keys of one agent: ``client.agents.keys.list(agent_id)``.
        self.keys = AgentKeys(transport)
        #: Federated credentials of one agent: ``client.agents.federated_credentials.create(agent_id, issuer=..., subject=...)``.
        self.federated_credentials = FederatedCredentials(transport)

    def create(
        self,
        name: str,
        scopes: Optional[List[str]] = None,
        metadata: Optional[Dict[str, str]] = None,
        public_key: Optional[str] = None,
        *,
        federated_credentials: Optional[List[Dict[str, Any]]] = None,
        may_act: Optional[List[str]] = None,
        options: Optional[RequestOptions] = None,
    ) -> CreatedAgent:
        """Registers an agent. Without ``public_key`` the server generates the key pair and returns
        the agent ``secret`` — once: store it immediately — unless ``federated_credentials`` are given
        (``[{"issuer": ..., "subject": ...}]``): then the agent has no key and no secret at all.
        Safe to retry: one Idempotency-Key per call."""
        wire = self._transport.request(
            "POST",
            "/v1/agents",
            json_body=defined(name=name, scopes=scopes, metadata=metadata, public_key=public_key, federated_credentials=federated_credentials, may_act=may_act),
            idempotent=True,
            options=options,
        )
        return to_created_agent(wire)

    def list(
        self,
        status: Optional[AgentStatus] = None,
        *,
        name: Optional[str] = None,
        name_prefix: Optional[str] = None,
        never_authenticated: bool = False,
        inactive_since: Optional[Union[datetime, str]] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> Pager[Agent]:
        """Agents, oldest first. Iterate the result for every agent of every page:
        ``for agent in client.agents.list(status="active"): ...``."""
        return Pager(self._fetcher(status, name, name_prefix, never_authenticated, inactive_since, limit, options), cursor)

    def list_page(
        self,
        status: Optional[AgentStatus] = None,
        *,
        name: Optional[str] = None,
        name_prefix: Optional[str] = None,
        never_authenticated: bool = False,
        inactive_since: Optional[Union[datetime, str]] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> CursorPage[Agent]:
        """One page (``page.next_page()`` for the following one)."""
        return CursorPage.load(self._fetcher(status, name, name_prefix, never_authenticated, inactive_since, limit, options), cursor)

    def get(self, agent_id: str, *, options: Optional[RequestOptions] = None) -> Agent:
        """One agent; ``NotFoundError`` for an unknown or malformed id."""
        return to_agent(self._transport.request("GET", encode_path("/v1/agents/{}", agent_id), options=options))

    def update(
        self,
        agent_id: str,
        *,
        name: Optional[str] = None,
        scopes: Optional[List[str]] = None,
        metadata: Optional[Dict[str, str]] = None,
        may_act: Optional[List[str]] = None,
        options: Optional[RequestOptions] = None,
    ) -> Agent:
        """Changes name, scopes, metadata or may_act (metadata and may_act replace the whole map or list)."""
        wire = self._transport.request(
            "PATCH", encode_path("/v1/agents/{}", agent_id), json_body=defined(name=name, scopes=scopes, metadata=metadata, may_act=may_act), options=options
        )
        return to_agent(wire)

    def suspend(self, agent_id: str, reason: Optional[str] = None, *, options: Optional[RequestOptions] = None) -> Agent:
        """Temporarily disables the agent (it can no longer authenticate); ``activate`` undoes it."""
        return self._transition(agent_id, "suspend", reason, options)

    def activate(self, agent_id: str, reason: Optional[str] = None, *, options: Optional[RequestOptions] = None) -> Agent:
        """Re-enables a suspended agent. A revoked one raises ``ConflictError`` (``invalid_transition``)."""
        return self._transition(agent_id, "activate", reason, options)

    def revoke(self, agent_id: str, reason: Optional[str] = None, *, options: Optional[RequestOptions] = None) -> Agent:
        """Permanently disables the agent and invalidates its tokens and sessions. Cannot be undone."""
        return self._transition(agent_id, "revoke", reason, options)

    def _transition(self, agent_id: str, action: str, reason: Optional[str], options: Optional[RequestOptions]) -> Agent:
        wire = self._transport.request(
            "POST", encode_path("/v1/agents/{}/" + action, agent_id), json_body=defined(reason=reason), options=options
        )
        return to_agent(wire)

    def _fetcher(self, status, name, name_prefix, never_authenticated, inactive_since, limit, options):  # type: ignore[no-untyped-def]
        query = {
            "status": status,
            "name": name,
            "name_prefix": name_prefix,
            "never_authenticated": True if never_authenticated else None,  # the API only knows `=true`
            "inactive_since": inactive_since,
            "limit": limit,
        }
        return self._page_fetcher("/v1/agents", query, to_agent, options)
