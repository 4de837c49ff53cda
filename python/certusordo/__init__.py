"""CertusOrdo Python SDK: cryptographic identities for AI agents.

Admin:     ``CertusOrdoClient(api_key=...)`` → ``agents`` (and ``agents.keys``), ``api_keys``,
           ``audit_events``, ``sessions``, ``introspect``, ``revoke_token``.
Agents:    ``AgentCredentials.from_secret(secret)`` → ``get_token()``, ``open_session()``, ``revoke_token()``.
Services:  ``verify_access_token(token, issuer=organization_issuer(base_url, org_id))``;
           ``ResourceServer(issuer=…, resource=…, scopes=[…], introspection={"api_key": …}).check(header)``
           (RFC 6750 answers, RFC 9728 metadata) for any HTTP API or MCP server.

Same semantics as the TypeScript SDK (sdk/src): the same errors, retries and idempotency.
"""
from ._datetime import UTCDateTime
from ._transport import DEFAULT_BASE_URL, RequestOptions
from ._version import __version__
from .auth import (
    CLIENT_ASSERTION_TYPE,
    AgentCredentials,
    AgentKeyPair,
    DpopKey,
    HmacDpopNonces,
    JWKSCache,
    ParsedAgentSecret,
    authorization_server_metadata_url,
    create_dpop_proof,
    format_agent_secret,
    generate_agent_key_pair,
    generate_dpop_key,
    jwk_thumbprint,
    organization_issuer,
    parse_agent_secret,
    public_key_from_private_key,
    verify_access_token,
)
from .auth.resource import (
    AccessDecision,
    AgentTokenRefusal,
    ResourceServer,
    VerifiedAgentToken,
    protected_resource_metadata,
    protected_resource_metadata_url,
)
from .client import CertusOrdoClient
from .errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    CertusOrdoError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TokenVerificationError,
    ValidationError,
    generate,
)
from .pagination import CursorPage, Pager
from .types import (
    AccessToken,
    Agent,
    AgentKey,
    ApiKey,
    AuditCheckpoint,
    AuditEvent,
    AuditVerification,
    CreatedAgent,
    CreatedAgentKey,
    FederatedCredential,
    CreatedApiKey,
    OpenedSession,
    Session,
    TokenIntrospection,
    VerifiedAccessToken,
)

__all__ = [
    "__version__",
    "DEFAULT_BASE_URL",
    "CertusOrdoClient",
    "RequestOptions",
    "UTCDateTime",
    "CursorPage",
    "Pager",
    # errors
    "CertusOrdoError",
    "ValidationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "TokenVerificationError",
    "ErrorDetail",
    "generate",
    # objects
    "Agent",
    "CreatedAgent",
    "AgentKey",
    "CreatedAgentKey",
    "FederatedCredential",
    "ApiKey",
    "CreatedApiKey",
    "AuditEvent",
    "AuditVerification",
    "AuditCheckpoint",
    "TokenIntrospection",
    "AccessToken",
    "Session",
    "OpenedSession",
    "VerifiedAccessToken",
    # agent side and relying services
    "AgentCredentials",
    "CLIENT_ASSERTION_TYPE",
    "AgentKeyPair",
    "ParsedAgentSecret",
    "parse_agent_secret",
    "format_agent_secret",
    "public_key_from_private_key",
    "jwk_thumbprint",
    "generate_agent_key_pair",
    "DpopKey",
    "HmacDpopNonces",
    "generate_dpop_key",
    "create_dpop_proof",
    "verify_access_token",
    "organization_issuer",
    "authorization_server_metadata_url",
    "JWKSCache",
    # resource servers
    "ResourceServer",
    "AccessDecision",
    "AgentTokenRefusal",
    "VerifiedAgentToken",
    "protected_resource_metadata",
    "protected_resource_metadata_url",
]
