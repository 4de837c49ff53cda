/**
 * `requireAgentToken`: Express (or any connect-style framework) middleware that lets through only
 * requests carrying an agent's token for this resource with the scopes it needs, and answers the
 * rest with RFC 6750 errors and a `WWW-Authenticate` challenge that points to this resource's RFC
 * 9728 metadata. Typed structurally: the SDK does not depend on Express.
 *
 * `Authorization: DPoP <token>` with a `DPoP` proof header (RFC 9449) is verified here: the proof's
 * `htm` is the request's method and its `htu` the request's URL as the client addressed it,
 * `publicUrl`'s origin (default `resource`'s) followed by `req.originalUrl`'s path. With
 * `dpopNonce`, proofs must carry this server's nonce (RFC 9449 §9): a refusal says so with a
 * `DPoP-Nonce` header, and an accepted request whose nonce has aged gets the new one the same way.
 *
 * On success `req.agent` is the verified token and `req.auth` its MCP `AuthInfo`, which the MCP
 * SDK's transports hand to tool handlers (so an MCP server can sit behind this middleware).
 */
import { agentAuthInfo, createAgentTokenVerifier, requireScopes, type AgentTokenVerifierOptions, type VerifiedAgentToken } from './agent-token';
import { protectedResourceMetadataUrl } from './metadata';
import { AgentTokenRefusal, credentialsOf, wwwAuthenticate } from './refusal';

export type RequireAgentTokenOptions = AgentTokenVerifierOptions & {
  /** Every scope a request must hold (default none). */
  scopes?: readonly string[] | undefined;
  /** The metadata URL the challenge names (default: the RFC 9728 well-known URL of `resource`). */
  resourceMetadataUrl?: string | undefined;
  /**
   * The origin clients address this server by (e.g. `https://tools.example.com` behind a proxy),
   * which DPoP proofs name in `htu` (default: `resource`'s origin).
   */
  publicUrl?: string | undefined;
};

/** The parts of a request the middleware reads and writes. */
export interface AgentTokenRequest {
  headers: { authorization?: string | undefined; dpop?: string | string[] | undefined } & Record<string, string | string[] | undefined>;
  /** The request's method: the DPoP proof's `htm`. */
  method?: string | undefined;
  /** The path and query as received (Express keeps it across mounted routers); `url` otherwise. */
  originalUrl?: string | undefined;
  url?: string | undefined;
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
  const origin = publicOrigin(options.publicUrl ?? verifier.resource);
  return async function requireAgentToken(req, res, next) {
    let token: string;
    let verified: VerifiedAgentToken;
    try {
      const credentials = credentialsOf(req.headers.authorization, options.requireDpop ? 'dpop' : 'bearer');
      token = credentials.token;
      verified = await verifier.verify(token, {
        scheme: credentials.scheme,
        proof: dpopHeaderOf(req.headers.dpop),
        method: req.method ?? 'GET',
        url: `${origin}${pathOf(req.originalUrl ?? req.url ?? '/')}`,
      });
      requireScopes(verified, scopes);
    } catch (err) {
      if (!(err instanceof AgentTokenRefusal)) return next(err);
      refuse(res, err, metadataUrl);
      return;
    }
    // The proof's nonce has aged into its last window: hand the client the current one (RFC 9449 §8.2).
    if (verified.dpop?.nextNonce !== undefined) res.setHeader('DPoP-Nonce', verified.dpop.nextNonce);
    req.agent = verified;
    req.auth = agentAuthInfo(token, verified);
    next();
  };
}

function publicOrigin(url: string): string {
  if (!URL.canParse(url)) throw new TypeError('publicUrl must be an absolute URL (e.g. https://tools.example.com)');
  return new URL(url).origin;
}

/** The path of a request target (the proof's `htu` carries no query). */
function pathOf(target: string): string {
  const q = target.search(/[?#]/);
  const path = q === -1 ? target : target.slice(0, q);
  return path.startsWith('/') ? path : `/${path}`;
}

/** The one `DPoP` header: undefined when absent, null when sent more than once (RFC 9449 §4.3). */
function dpopHeaderOf(value: string | string[] | undefined): string | undefined | null {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : null;
  return value;
}

function refuse(res: AgentTokenResponse, refusal: AgentTokenRefusal, metadataUrl: string): void {
  res.statusCode = refusal.status;
  const challenge = wwwAuthenticate(refusal, metadataUrl);
  if (challenge) res.setHeader('WWW-Authenticate', challenge);
  if (refusal.code === 'temporarily_unavailable') res.setHeader('Retry-After', '1');
  if (refusal.dpopNonce !== undefined) res.setHeader('DPoP-Nonce', refusal.dpopNonce);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(refusal.body()));
}
