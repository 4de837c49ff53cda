/**
 * Why a resource server refuses a request, as RFC 6750 §3.1 names it, and the `WWW-Authenticate`
 * challenge that tells the client what to do next (including, per RFC 9728 §5.1, where this
 * server's protected resource metadata is). The descriptions are fixed texts or jose's description
 * of the failed check: never the token.
 */
import { CertusOrdoError } from '../core/errors';
import { DPOP_SIGNING_ALGS } from '../../../model/dpop';

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
  | 'temporarily_unavailable'
  /** RFC 9449 §7.1: a DPoP-bound token without a valid proof for this request. */
  | 'invalid_dpop_proof'
  /** RFC 9449 §9: the proof must carry the server's nonce. */
  | 'use_dpop_nonce';

/** Which challenge a refusal answers with: RFC 6750 `Bearer`, or RFC 9449 `DPoP`. */
export type ChallengeScheme = 'bearer' | 'dpop';

const STATUS: Readonly<Record<AgentTokenRefusalCode, number>> = {
  missing_token: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
};

export class AgentTokenRefusal extends CertusOrdoError {
  static override readonly code: string = 'invalid_token';
  declare readonly code: AgentTokenRefusalCode;
  declare readonly status: number;
  /** For `insufficient_scope`: the scopes the token lacks, space-separated. */
  readonly scope: string | undefined;
  /** The challenge scheme: `dpop` for proof failures and for tokens that must be presented with DPoP. */
  readonly scheme: ChallengeScheme;
  /** For `use_dpop_nonce`: the nonce the client's next proof must carry (the `DPoP-Nonce` header). */
  readonly dpopNonce: string | undefined;

  constructor(code: AgentTokenRefusalCode, message: string, init: { scope?: string; cause?: unknown; scheme?: ChallengeScheme; dpopNonce?: string } = {}) {
    super(message, { code, status: STATUS[code], cause: init.cause });
    this.scope = init.scope;
    this.dpopNonce = init.dpopNonce;
    this.scheme = init.scheme ?? (code === 'invalid_dpop_proof' || code === 'use_dpop_nonce' ? 'dpop' : 'bearer');
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
  // RFC 9449 §7.1: a DPoP challenge names the proof algorithms this server verifies.
  if (refusal.scheme === 'dpop') return `DPoP ${[...params, `algs=${quoted(DPOP_SIGNING_ALGS.join(' '))}`].join(', ')}`;
  return `Bearer ${params.join(', ')}`;
}

/**
 * The scheme and token of an Authorization header: `Bearer <token>` (RFC 6750) or `DPoP <token>`
 * (RFC 9449 §7.1); any other form is refused as `invalid_request`.
 */
export function credentialsOf(authorization: string | undefined, missingChallenge: ChallengeScheme = 'bearer'): { scheme: ChallengeScheme; token: string } {
  const usage = 'The Authorization header must be: Bearer <token> or DPoP <token>';
  if (authorization === undefined || authorization.trim() === '') throw new AgentTokenRefusal('missing_token', 'Send an agent access token: Authorization: Bearer <token> (or DPoP <token> with a DPoP proof)', { scheme: missingChallenge });
  const m = /^([A-Za-z][A-Za-z0-9-]*) +([A-Za-z0-9\-._~+/]+=*) *$/.exec(authorization);
  if (!m) throw new AgentTokenRefusal('invalid_request', usage);
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'dpop') throw new AgentTokenRefusal('invalid_request', usage);
  return { scheme, token: m[2]! };
}

/**
 * The token of an Authorization header where only `Bearer` can be checked (the MCP SDK's
 * `requireBearerAuth` hands a verifier the token alone, never the proof): `DPoP` is refused by name.
 */
export function bearerTokenOf(authorization: string | undefined): string {
  const { scheme, token } = credentialsOf(authorization);
  if (scheme === 'dpop') throw new AgentTokenRefusal('invalid_request', 'This check does not accept DPoP-bound tokens (Authorization: DPoP): put requireAgentToken in front of the server to verify DPoP proofs');
  return token;
}
