/**
 * RFC 9728 protected resource metadata: the document a resource server publishes so that a client
 * (an MCP client, an agent) finds which authorization server issues tokens for it. Every
 * CertusOrdo organization is its own issuer, so the document names exactly one.
 */
import { resolveIssuer, type IssuerOptions } from '../auth/verify';
import { checkResource } from './audience';
import { DPOP_SIGNING_ALGS } from '../../../model/dpop';

export type ProtectedResourceMetadataOptions = IssuerOptions & {
  /** This server's identifier (its URL): the `resource` agents request tokens for. */
  resource: string;
  /** The scopes this server understands (`scopes_supported`). */
  scopesSupported?: string[] | undefined;
  /** A human-readable name (`resource_name`). */
  resourceName?: string | undefined;
  /** A page that documents this server (`resource_documentation`). */
  resourceDocumentation?: string | undefined;
  /** This server refuses bearer tokens (`requireAgentToken`'s `requireDpop`): `dpop_bound_access_tokens_required`. */
  requireDpop?: boolean | undefined;
};

/** The RFC 9728 document. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name?: string;
  resource_documentation?: string;
  /** The DPoP proof algorithms the kit verifies (RFC 9728 §2). */
  dpop_signing_alg_values_supported: string[];
  dpop_bound_access_tokens_required?: boolean;
}

/** The RFC 9728 document of `resource`, naming the organization's issuer as its one authorization server. */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): ProtectedResourceMetadata {
  const doc: ProtectedResourceMetadata = {
    resource: checkResource(options.resource),
    authorization_servers: [resolveIssuer(options)],
    // Tokens are read from the Authorization header only, never from a query or a form body.
    bearer_methods_supported: ['header'],
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
  };
  if (options.requireDpop) doc.dpop_bound_access_tokens_required = true;
  if (options.scopesSupported) doc.scopes_supported = [...options.scopesSupported];
  if (options.resourceName !== undefined) doc.resource_name = options.resourceName;
  if (options.resourceDocumentation !== undefined) doc.resource_documentation = options.resourceDocumentation;
  return doc;
}

/**
 * Where the document is served (RFC 9728 §3.1: the well-known segment goes between the host and
 * the resource's path): `https://tools.example.com/mcp` → `https://tools.example.com/.well-known/oauth-protected-resource/mcp`.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const u = new URL(checkResource(resource));
  const path = u.pathname === '/' ? '' : u.pathname;
  return `${u.origin}/.well-known/oauth-protected-resource${path}`;
}
