"""Agent-side authentication and token verification for relying services."""
from .credentials import CLIENT_ASSERTION_TYPE, AgentCredentials, ServiceResponse
from .dpop import (
    DpopKey,
    DpopReplayCache,
    DpopResult,
    create_dpop_proof,
    dpop_key_from_seed,
    generate_dpop_key,
    parse_authorization,
    verify_dpop_presentation,
    verify_dpop_proof,
)
from .dpop_nonce import DpopNonceSource, HmacDpopNonces
from .keys import (
    AgentKeyPair,
    ParsedAgentSecret,
    format_agent_secret,
    generate_agent_key_pair,
    jwk_thumbprint,
    parse_agent_secret,
    public_key_from_private_key,
)
from .resource import (
    AccessDecision,
    AgentTokenRefusal,
    ResourceServer,
    VerifiedAgentToken,
    protected_resource_metadata,
    protected_resource_metadata_url,
)
from .verify import JWKSCache, authorization_server_metadata_url, organization_issuer, verify_access_token

__all__ = [
    "AgentCredentials",
    "CLIENT_ASSERTION_TYPE",
    "ServiceResponse",
    "DpopKey",
    "create_dpop_proof",
    "dpop_key_from_seed",
    "generate_dpop_key",
    "DpopReplayCache",
    "DpopResult",
    "parse_authorization",
    "verify_dpop_presentation",
    "verify_dpop_proof",
    "DpopNonceSource",
    "HmacDpopNonces",
    "AgentKeyPair",
    "ParsedAgentSecret",
    "format_agent_secret",
    "generate_agent_key_pair",
    "jwk_thumbprint",
    "parse_agent_secret",
    "public_key_from_private_key",
    "JWKSCache",
    "authorization_server_metadata_url",
    "organization_issuer",
    "verify_access_token",
    "AccessDecision",
    "AgentTokenRefusal",
    "ResourceServer",
    "VerifiedAgentToken",
    "protected_resource_metadata",
    "protected_resource_metadata_url",
]
