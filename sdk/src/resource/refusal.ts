/**
 * Why a resource server refuses a request, as RFC 6750 §3.1 names it, and the `WWW-Authenticate`
 * challenge that tells the client what to do next (including, per RFC 9728 §5.1, where this
 * server's protected resource metadata is). The descriptions are fixed texts or jose's description
 * of the failed check: never the token.
 */
import { CertusOrdoError } from '../core/errors';

export type AgentTokenRefusalCode =
  /** No credentials at all (RFC 6750 §3.1: the challenge then carries no error code). */
  | 'missing_token'
  /** A malformed Authorization header, or a scheme this server does not take. */
  | 'invalid_request'
  /** Not a token of this issuer for this resource, expired, tampered with, or no longer active. */
  | 'invalid_token'
  /** A valid token without a scope this request needs; `scope` names the ones missing. */
  | 'insufficient_scope'
  /** The control plane could not confirm the token (introspection unreachable): refused, never accepted. */
  | 'temporarily_unavailable';

const STATUS: Readonly<Record<AgentTokenRefusalCode, number>> = {
  missing_token: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
};

export class AgentTokenRefusal extends CertusOrdoError {
  static override readonly code: string = 'invalid_token';
  declare readonly code: AgentTokenRefusalCode;
  declare readonly status: number;
  /** For `insufficient_scope`: the scopes the token lacks, space-separated. */
  readonly scope: string | undefined;

  constructor(code: AgentTokenRefusalCode, message: string, init: { scope?: string; cause?: unknown } = {}) {
    super(message, { code, status: STATUS[code], cause: init.cause });
    this.scope = init.scope;
  }

  /** The response body: RFC 6749 §5.2's shape, which the MCP SDK's errors use too. */
  body(): { error: string; error_description: string } {
    return { error: this.code === 'missing_token' ? 'invalid_token' : this.code, error_description: this.message };
  }
}

/**
 * A quoted-string auth-param value. RFC 6750 §3 allows no `"` or `\` (nor anything outside
 * printable ASCII) in its values: double quotes become single ones, the rest is dropped.
 */
function quoted(value: string): string {
  return `"${value.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '')}"`;
}

/** The `WWW-Authenticate` value for a refusal (none for `temporarily_unavailable`, which is no challenge). */
export function wwwAuthenticate(refusal: AgentTokenRefusal, resourceMetadataUrl: string): string | undefined {
  if (refusal.code === 'temporarily_unavailable') return undefined;
  const params: string[] = [];
  if (refusal.code !== 'missing_token') {
    params.push(`error=${quoted(refusal.code)}`, `error_description=${quoted(refusal.message)}`);
  }
  if (refusal.scope) params.push(`scope=${quoted(refusal.scope)}`);
  params.push(`resource_metadata=${quoted(resourceMetadataUrl)}`);
  return `Bearer ${params.join(', ')}`;
}

/**
 * The token of an Authorization header. `Bearer` is the one scheme taken today; a `DPoP` header
 * (RFC 9449) is refused by name here, and is where a DPoP proof check will plug in.
 */
export function bearerTokenOf(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') throw new AgentTokenRefusal('missing_token', 'Send an agent access token: Authorization: Bearer <token>');
  const m = /^([A-Za-z][A-Za-z0-9-]*) +([A-Za-z0-9\-._~+/]+=*) *$/.exec(authorization);
  if (!m) throw new AgentTokenRefusal('invalid_request', 'The Authorization header must be: Bearer <token>');
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'dpop') throw new AgentTokenRefusal('invalid_request', 'This resource server does not accept DPoP-bound tokens (Authorization: DPoP); send a bearer token');
  if (scheme !== 'bearer') throw new AgentTokenRefusal('invalid_request', 'The Authorization header must be: Bearer <token>');
  return m[2]!;
}
