/**
 * How a resource server compares its own identifier with a token's audience: the way the MCP
 * TypeScript SDK's `requireBearerAuth` compares `expectedResource` (the serialized URL without its
 * fragment, one trailing slash aside), so a server behind either check accepts the same tokens.
 */

/** `resource` without a fragment and without one trailing slash. */
export function comparableResource(resource: string): string {
  const hash = resource.indexOf('#');
  return (hash === -1 ? resource : resource.slice(0, hash)).replace(/\/$/, '');
}

/**
 * The audiences that name `resource`: both spellings, with and without the one trailing slash
 * (`https://tools.example.com` and `https://tools.example.com/` are the same server).
 */
export function audiencesOf(resource: string): string[] {
  const bare = comparableResource(resource);
  return [bare, `${bare}/`];
}

/** Checks a resource server's own identifier: an absolute http(s) URL without a fragment (RFC 8707 §2). */
export function checkResource(resource: unknown): string {
  if (typeof resource !== 'string' || !URL.canParse(resource)) throw new TypeError('resource must be this server\'s absolute URL (e.g. https://tools.example.com/mcp)');
  const u = new URL(resource);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('resource must be an http(s) URL');
  if (resource.includes('#')) throw new TypeError('resource must not contain a fragment (RFC 8707)');
  return resource;
}
