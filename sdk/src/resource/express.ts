/**
 * `requireAgentToken`: Express (or any connect-style framework) middleware that lets through only
 * requests carrying an agent's token for this resource with the scopes it needs, and answers the
 * rest with RFC 6750 errors and a `WWW-Authenticate` challenge that points to this resource's RFC
 * 9728 metadata. Typed structurally: the SDK does not depend on Express.
 *
 * On success `req.agent` is the verified token and `req.auth` its MCP `AuthInfo`, which the MCP
 * SDK's transports hand to tool handlers (so an MCP server can sit behind this middleware).
 */
import { agentAuthInfo, createAgentTokenVerifier, requireScopes, type AgentTokenVerifierOptions, type VerifiedAgentToken } from './agent-token';
import { protectedResourceMetadataUrl } from './metadata';
import { AgentTokenRefusal, bearerTokenOf, wwwAuthenticate } from './refusal';

export type RequireAgentTokenOptions = AgentTokenVerifierOptions & {
  /** Every scope a request must hold (default none). */
  scopes?: readonly string[] | undefined;
  /** The metadata URL the challenge names (default: the RFC 9728 well-known URL of `resource`). */
  resourceMetadataUrl?: string | undefined;
};

/** The parts of a request the middleware reads and writes. */
export interface AgentTokenRequest {
  headers: { authorization?: string | undefined } & Record<string, string | string[] | undefined>;
  agent?: VerifiedAgentToken;
  /**
   * Set to an `AgentAuthInfo`. Typed loosely on purpose: the MCP SDK declares Express's `req.auth`
   * as its own `AuthInfo`, and both must accept this middleware.
   */
  auth?: unknown;
}

/** The parts of a response the middleware uses (Express's and Node's). */
export interface AgentTokenResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export type NextFunctionLike = (err?: unknown) => void;

export function requireAgentToken(options: RequireAgentTokenOptions): (req: AgentTokenRequest, res: AgentTokenResponse, next: NextFunctionLike) => Promise<void> {
  const verifier = createAgentTokenVerifier(options);
  const scopes = [...(options.scopes ?? [])];
  const metadataUrl = options.resourceMetadataUrl ?? protectedResourceMetadataUrl(verifier.resource);
  return async function requireAgentToken(req, res, next) {
    let token: string;
    let verified: VerifiedAgentToken;
    try {
      token = bearerTokenOf(req.headers.authorization);
      verified = await verifier.verify(token);
      requireScopes(verified, scopes);
    } catch (err) {
      if (!(err instanceof AgentTokenRefusal)) return next(err);
      refuse(res, err, metadataUrl);
      return;
    }
    req.agent = verified;
    req.auth = agentAuthInfo(token, verified);
    next();
  };
}

function refuse(res: AgentTokenResponse, refusal: AgentTokenRefusal, metadataUrl: string): void {
  res.statusCode = refusal.status;
  const challenge = wwwAuthenticate(refusal, metadataUrl);
  if (challenge) res.setHeader('WWW-Authenticate', challenge);
  if (refusal.code === 'temporarily_unavailable') res.setHeader('Retry-After', '1');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(refusal.body()));
}
