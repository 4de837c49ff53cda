/**
 * CertusOrdo TypeScript SDK.
 *
 * Admin:   `new CertusOrdoClient({ apiKey, baseUrl })` → agents, agent keys, API keys, audit events, sessions,
 *          introspection, token revocation.
 * Agents:  `AgentCredentials.fromSecret(secret)` → `getToken()`, `openSession()`, `endSession()`, `revokeToken()`.
 * Services: `verifyAccessToken(token, { baseUrl, organizationId, audience })` (or `{ issuer }`: your organization's);
 *          `requireAgentToken({ issuer, resource, scopes, introspection })` (Express middleware, RFC 6750) and
 *          `protectedResourceMetadata(...)` (RFC 9728); MCP servers: `mcpTokenVerifier` from `@certusordo/sdk/mcp`.
 *
 * Everything public is exported here; `./internal/*` is not part of the API and may change. `./core/*`
 * is the client core this SDK shares with the CLI and the Terraform provider (its public parts are
 * re-exported here).
 */
export { CertusOrdoClient, DEFAULT_BASE_URL, type ClientOptions } from './client';
export {
  CertusOrdoError,
  ConfigurationError,
  APIError,
  ValidationError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  RateLimitError,
  InternalServerError,
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  ResponseTooLargeError,
  TokenVerificationError,
  generate,
  type ErrorDetail,
  type CertusOrdoErrorInit,
} from './core/errors';
export type { Fetch, FetchInit, FetchResponse, HeadersLike } from './core/fetch';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './core/retry';
export { CursorPage, PagePromise, type PageFetcher } from './pagination';
export { SDK_VERSION as VERSION, type RequestOptions, type Sleep } from './core/transport';
export { Agents } from './resources/agents';
export { AgentKeys } from './resources/agent-keys';
export { FederatedCredentials } from './resources/federated-credentials';
export { ApiKeys } from './resources/api-keys';
export { AuditEvents } from './resources/audit-events';
export { Sessions } from './resources/sessions';
export * from './types';
export {
  AgentCredentials,
  CLIENT_ASSERTION_TYPE,
  type AgentCredentialsOptions,
  type AgentKeyInput,
  type AuthHeadersParams,
  type GetTokenParams,
  type PlatformTokenSource,
} from './auth/credentials';
export {
  createDpopProof,
  verifyDpopProof,
  verifyDpopPresentation,
  parseAuthorization,
  generateDpopKey,
  dpopKeyFromSeed,
  dpopPublicJwk,
  dpopJwkThumbprint,
  DpopReplayCache,
  DPOP_PROOF_MAX_AGE_SECONDS,
  DPOP_SIGNING_ALGS,
  normalizeHtu,
  type CreateDpopProofParams,
  type VerifyDpopProofParams,
  type DpopCheckResult,
  type DpopPresentation,
  type DpopPresentationResult,
  type DpopErrorCode,
  type DpopPrivateJwk,
  type DpopPublicJwk,
} from './auth/dpop';
export {
  parseAgentSecret,
  formatAgentSecret,
  publicKeyFromPrivateKey,
  jwkThumbprint,
  generateAgentKeyPair,
  agentPrivateJwk,
  type Ed25519PrivateJwk,
  type ParsedAgentSecret,
} from './auth/keys';
export {
  verifyAccessToken,
  organizationIssuer,
  authorizationServerMetadataUrl,
  discoverAuthorizationServer,
  type AuthorizationServerMetadata,
  type IssuerOptions,
  type VerifyAccessTokenOptions,
  type VerifiedAccessToken,
} from './auth/verify';
export * from './resource';
