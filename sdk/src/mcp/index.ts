/**
 * `@certusordo/sdk/mcp`: accept CertusOrdo agents in an MCP server built with the official MCP
 * TypeScript SDK (`@modelcontextprotocol/sdk`, an optional peer dependency of this package).
 *
 *   const verifier = mcpTokenVerifier({ issuer, resource: 'https://tools.example.com/mcp', introspection: { apiKey } });
 *   app.use(mcpAuthMetadataRouter({ oauthMetadata: await verifier.authorizationServerMetadata(), resourceServerUrl: new URL(verifier.resource) }));
 *   app.post('/mcp', requireBearerAuth({ verifier, requiredScopes: ['tools:read'], resourceMetadataUrl: verifier.resourceMetadataUrl }), handler);
 *
 * The verifier is the resource-server kit's check (`createAgentTokenVerifier`) wearing the MCP SDK's
 * `OAuthTokenVerifier` interface, its refusals turned into the MCP SDK's own errors so that
 * `requireBearerAuth` answers 401 (`InvalidTokenError`) or 403 (`InsufficientScopeError`).
 *
 * `requireBearerAuth` hands a verifier the token string only, so a sender-constrained (DPoP) token
 * cannot be checked here and is refused; an MCP server that wants DPoP puts `requireAgentToken` in
 * front of its transport instead (it sets `req.auth`, which the MCP transports read).
 */
import { InsufficientScopeError, InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
// Only through the SDK's public entry: the published package builds this entry against
// `@certusordo/sdk` itself, so both entries share one kit (its classes and its caches).
import {
  AgentTokenRefusal, agentAuthInfo, createAgentTokenVerifier, discoverAuthorizationServer, protectedResourceMetadataUrl,
  type IntrospectionOptions, type IntrospectionTuning, type IssuerOptions,
} from '../index';

export type { ActorClaim, AgentAuthExtra } from '../index';

export type McpTokenVerifierOptions = IssuerOptions & {
  /** This MCP server's URL (e.g. `https://tools.example.com/mcp`): tokens for any other resource are refused. */
  resource: string | URL;
  /**
   * Also ask the control plane (an `introspector` API key is enough), so a suspended agent or a
   * revoked token is refused on the next call within 1 s; when the control plane cannot be reached
   * the call is refused, never accepted.
   */
  introspection?: (IntrospectionOptions & IntrospectionTuning) | undefined;
  /** Delegated tokens: `0` refuses them, N accepts chains of at most N actors (default: any). */
  maxDelegationDepth?: number | undefined;
};

export interface McpTokenVerifier extends OAuthTokenVerifier {
  /** The organization issuer whose tokens are accepted. */
  readonly issuer: string;
  /** This MCP server's identifier, as given. */
  readonly resource: string;
  /** Its RFC 9728 metadata URL: `requireBearerAuth`'s `resourceMetadataUrl`. */
  readonly resourceMetadataUrl: string;
  /** The issuer's RFC 8414 metadata: `mcpAuthMetadataRouter`'s `oauthMetadata`. */
  authorizationServerMetadata(): Promise<OAuthMetadata>;
}

/** The MCP SDK's error for a kit refusal: 401 and 403 become the errors `requireBearerAuth` answers with them. */
function toMcpError(refusal: AgentTokenRefusal): Error {
  switch (refusal.code) {
    case 'insufficient_scope':
      return new InsufficientScopeError(refusal.message);
    case 'temporarily_unavailable':
      return new ServerError(refusal.message);
    default:
      return new InvalidTokenError(refusal.message);
  }
}

export function mcpTokenVerifier(options: McpTokenVerifierOptions): McpTokenVerifier {
  const resource = options.resource instanceof URL ? options.resource.href : options.resource;
  const verifier = createAgentTokenVerifier({ ...options, resource });
  return {
    issuer: verifier.issuer,
    resource: verifier.resource,
    resourceMetadataUrl: protectedResourceMetadataUrl(verifier.resource),
    async authorizationServerMetadata(): Promise<OAuthMetadata> {
      return (await discoverAuthorizationServer(verifier.issuer)) as OAuthMetadata;
    },
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        return agentAuthInfo(token, await verifier.verify(token));
      } catch (err) {
        throw err instanceof AgentTokenRefusal ? toMcpError(err) : err;
      }
    },
  };
}
