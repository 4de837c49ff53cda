/** The resource-server kit: accept CertusOrdo agents in any HTTP API (and, via `@certusordo/sdk/mcp`, in MCP servers). */
export { createAgentTokenVerifier, requireScopes, agentAuthInfo, type AgentTokenVerifier, type AgentTokenVerifierOptions, type VerifiedAgentToken, type TokenPresentation, type DpopProofInfo, type ActorClaim, type AgentAuthInfo, type AgentAuthExtra } from './agent-token';
export { IntrospectionGate, type IntrospectionOptions, type IntrospectionTuning, type IntrospectionVerdict } from './introspection';
export { protectedResourceMetadata, protectedResourceMetadataUrl, type ProtectedResourceMetadata, type ProtectedResourceMetadataOptions } from './metadata';
export { AgentTokenRefusal, wwwAuthenticate, bearerTokenOf, credentialsOf, type AgentTokenRefusalCode, type ChallengeScheme } from './refusal';
export { requireAgentToken, type RequireAgentTokenOptions, type AgentTokenRequest, type AgentTokenResponse, type NextFunctionLike } from './express';
export { comparableResource } from './audience';
export { hmacDpopNonces, type DpopNonceSource, type HmacDpopNonceOptions } from './dpop-nonce';
