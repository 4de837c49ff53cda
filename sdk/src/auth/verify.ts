/**
 * For relying services: verify a CertusOrdo access token locally against the signing keys of YOUR
 * organization (no call per request; keys are fetched once and cached by jose). Compare with
 * `CertusOrdoClient.introspect`, which asks the server and also sees revocations made since the
 * token was issued.
 *
 * Every organization is its own issuer, `<baseUrl>/orgs/<organization id>`, with its own RFC 8414
 * metadata and JWKS. Requiring that issuer is what keeps another organization's agents out: their
 * tokens carry another `iss` and are signed with another organization's keys.
 */
import type { createRemoteJWKSet, JWTPayload } from 'jose';
import { APIConnectionError, APITimeoutError, CertusOrdoError, TokenVerificationError } from '../core/errors';
import { actorChain } from '../../../model/delegation';

interface VerifyOptionsCommon {
  /**
   * The JWKS URL. Default: the `jwks_uri` of the issuer's RFC 8414 metadata
   * (`<origin>/.well-known/oauth-authorization-server<issuer path>`), fetched once per issuer.
   */
  jwksUrl?: string | undefined;
  /**
   * Expected `aud` (any one of a list). Agents ask for a token addressed to your service with the
   * RFC 8707 `resource` parameter; without it a token's `aud` is the organization issuer.
   */
  audience?: string | string[] | undefined;
  /** Allowed clock skew in seconds (default 5). */
  clockToleranceSeconds?: number | undefined;
  /** Timeout of the metadata and JWKS requests (default 5000 ms). */
  timeoutMs?: number | undefined;
  /**
   * Delegated tokens (RFC 8693: an agent acting for another, `act`) are accepted by default: the
   * subject is who is represented, `actors` who acts. `maxDelegationDepth: 0` refuses every
   * delegated token (this resource wants the agent itself); N accepts chains of at most N actors.
   */
  maxDelegationDepth?: number | undefined;
}

/** The issuer of your organization, exactly (`<baseUrl>/orgs/<organization id>`). */
interface ByIssuer {
  issuer: string;
  baseUrl?: undefined;
  organizationId?: undefined;
}

/** The control plane URL and your organization id, from which the issuer is built. */
interface ByOrganization {
  issuer?: undefined;
  baseUrl: string;
  organizationId: string;
}

/** Names the one issuer whose tokens are accepted: `issuer`, or `baseUrl` + `organizationId`. */
export type IssuerOptions = ByIssuer | ByOrganization;

/** One of `issuer` or `baseUrl` + `organizationId` is required: tokens of any other issuer are refused. */
export type VerifyAccessTokenOptions = VerifyOptionsCommon & IssuerOptions;

export interface VerifiedAccessToken {
  /** The agent id: the agent the token represents (for a delegated token, the one acted for). */
  sub: string;
  /**
   * A delegated token's actors (RFC 8693 `act`), the first actor (the one the subject delegated
   * to) first and the current actor — the agent making this call — last; [] when the agent
   * itself holds the token.
   */
  actors: string[];
  /** The agent making the call: the current actor of a delegated token, else `sub`. */
  actor: string;
  /** Granted scopes (from the space-separated `scope` claim). */
  scopes: string[];
  clientId: string | undefined;
  /** Session id, for session tokens. */
  sid: string | undefined;
  /** The agent's organization (the `org_id` claim). */
  organizationId: string | undefined;
  /** The token's `aud`, as a list. */
  audience: string[];
  expiresAt: Date;
  /**
   * For a DPoP-bound token (`token_type: DPoP`), the thumbprint of its key (`cnf.jkt`): accept it
   * only with a proof by that key (`verifyDpopPresentation`). Undefined for a bearer token.
   */
  jkt: string | undefined;
  /** Every claim as sent. */
  payload: JWTPayload & Record<string, unknown>;
}

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;
type Jose = Awaited<ReturnType<typeof loadJose>>;

const DEFAULT_TIMEOUT_MS = 5000;
const jwksCache = new Map<string, RemoteJwks>();
/** Metadata per issuer, discovered once; a failed discovery is forgotten so the next call retries. */
const discoveryCache = new Map<string, Promise<AuthorizationServerMetadata>>();

/** The RFC 8414 metadata of an organization issuer, as served (checked: `issuer` and `jwks_uri`). */
export interface AuthorizationServerMetadata extends Record<string, unknown> {
  issuer: string;
  jwks_uri: string;
  token_endpoint: string;
  authorization_endpoint: string;
  response_types_supported: string[];
}

/** jose is loaded on first use, so admin-only users (and the CLI) do not pay for it. */
const loadJose = () => import('jose');

/** An organization's issuer: `<baseUrl>/orgs/<organization id>`. */
export function organizationIssuer(baseUrl: string, organizationId: string): string {
  if (!organizationId) throw new TypeError('organizationId is required');
  return `${baseUrl.replace(/\/+$/, '')}/orgs/${encodeURIComponent(organizationId)}`;
}

/** The control plane URL of an organization issuer (`<baseUrl>/orgs/<organization id>` → `<baseUrl>`). */
export function issuerBaseUrl(issuer: string): string {
  const m = /^(.+)\/orgs\/[^/]+$/.exec(issuer);
  if (!m) throw new TypeError('an organization issuer has the form <baseUrl>/orgs/<organization id>');
  return m[1]!;
}

/** The RFC 8414 §3.1 metadata URL of an issuer: the well-known segment goes between host and path. */
export function authorizationServerMetadataUrl(issuer: string): string {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}/.well-known/oauth-authorization-server${path}`;
}

/** The issuer the options name (`issuer`, or built from `baseUrl` + `organizationId`); throws TypeError when unusable. */
export function resolveIssuer(options: IssuerOptions): string {
  const fromOrg = options.baseUrl !== undefined || options.organizationId !== undefined;
  if (options.issuer !== undefined && fromOrg) throw new TypeError('pass either issuer or baseUrl + organizationId, not both');
  const issuer = fromOrg ? organizationIssuer(options.baseUrl ?? '', options.organizationId ?? '') : options.issuer;
  if (!issuer) throw new TypeError('verifyAccessToken needs the issuer of your organization (issuer, or baseUrl + organizationId)');
  if (!isAbsoluteUrl(issuer)) throw new TypeError('issuer must be an absolute URL');
  return issuer;
}

/** One remote key set per URL for the process, so keys are fetched once (and on rotation). */
function remoteJwks(jose: Jose, url: string, timeoutMs: number): RemoteJwks {
  let jwks = jwksCache.get(url);
  if (!jwks) {
    jwks = jose.createRemoteJWKSet(new URL(url), { timeoutDuration: timeoutMs });
    jwksCache.set(url, jwks);
  }
  return jwks;
}

function isAbsoluteUrl(s: string): boolean {
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * The issuer's RFC 8414 metadata, fetched once per issuer and process (what an MCP server hands to
 * `mcpAuthMetadataRouter`, and where verification finds the JWKS).
 */
export function discoverAuthorizationServer(issuer: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<AuthorizationServerMetadata> {
  let pending = discoveryCache.get(issuer);
  if (!pending) {
    pending = fetchMetadata(issuer, timeoutMs);
    discoveryCache.set(issuer, pending);
    pending.catch(() => discoveryCache.delete(issuer));
  }
  return pending;
}

async function fetchMetadata(issuer: string, timeoutMs: number): Promise<AuthorizationServerMetadata> {
  const url = authorizationServerMetadataUrl(issuer);
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError') throw new APITimeoutError('timed out fetching the authorization server metadata', { cause: err });
    throw new APIConnectionError('could not fetch the authorization server metadata', { cause: err });
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) throw CertusOrdoError.generate(res.status, body, res.headers);
  const metadata = (body ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
  // RFC 8414 §3.3: the metadata must name the very issuer it was fetched for.
  if (metadata.issuer !== issuer) {
    throw new CertusOrdoError('the authorization server metadata names another issuer', { status: res.status, code: 'invalid_metadata' });
  }
  if (typeof metadata.jwks_uri !== 'string' || !isAbsoluteUrl(metadata.jwks_uri)) {
    throw new CertusOrdoError('the authorization server metadata has no valid jwks_uri', { status: res.status, code: 'invalid_metadata' });
  }
  return metadata as AuthorizationServerMetadata;
}

/**
 * Verifies signature (EdDSA), `typ: at+jwt`, issuer (required: yours), expiry and, when given,
 * audience. Throws `TokenVerificationError` for a token that fails any check; configuration and
 * network problems (unknown organization, unreachable server) are other `CertusOrdoError`s.
 */
export async function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<VerifiedAccessToken> {
  const issuer = resolveIssuer(options);
  const maxDepth = options.maxDelegationDepth;
  if (maxDepth !== undefined && !(Number.isInteger(maxDepth) && maxDepth >= 0)) throw new TypeError('maxDelegationDepth must be an integer ≥ 0');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const jwksUrl = options.jwksUrl ?? (await discoverAuthorizationServer(issuer, timeoutMs)).jwks_uri;
  const jose = await loadJose();
  let payload: JWTPayload;
  try {
    ({ payload } = await jose.jwtVerify(token, remoteJwks(jose, jwksUrl, timeoutMs), {
      issuer,
      ...(options.audience === undefined ? {} : { audience: options.audience }),
      typ: 'at+jwt',
      algorithms: ['EdDSA'],
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ['iss', 'sub', 'exp'],
    }));
  } catch (err) {
    throw toVerificationError(jose, err);
  }
  const actors = actorChain(payload.act);
  if (actors === null) throw new TokenVerificationError('the act claim is malformed', { code: 'ERR_DELEGATION_MALFORMED' });
  if (maxDepth !== undefined && actors.length > maxDepth) {
    throw new TokenVerificationError(maxDepth === 0 ? 'delegated tokens are not accepted here' : `the delegation chain has ${actors.length} actors; at most ${maxDepth} are accepted here`, { code: 'ERR_DELEGATION_DEPTH' });
  }
  const scope = typeof payload.scope === 'string' ? payload.scope : '';
  const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  return {
    sub: payload.sub!,
    actors,
    actor: actors.at(-1) ?? payload.sub!,
    scopes: scope.split(' ').filter(Boolean),
    clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
    sid: typeof payload.sid === 'string' ? payload.sid : undefined,
    organizationId: typeof payload.org_id === 'string' ? payload.org_id : undefined,
    audience: aud,
    expiresAt: new Date(payload.exp! * 1000),
    jkt: boundKey(payload.cnf),
    payload: payload as JWTPayload & Record<string, unknown>,
  };
}

function boundKey(cnf: unknown): string | undefined {
  const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as { jkt?: unknown }).jkt : undefined;
  return typeof jkt === 'string' ? jkt : undefined;
}

function toVerificationError(jose: Jose, err: unknown): Error {
  const joseErrors = jose.errors;
  if (err instanceof joseErrors.JWKSTimeout) return new APITimeoutError('timed out fetching the JWKS', { cause: err });
  if (err instanceof joseErrors.JOSEError) {
    // jose's messages describe the failed check (e.g. '"exp" claim timestamp check failed'), never the token.
    return new TokenVerificationError(err.message, { code: err.code, cause: err });
  }
  return new APIConnectionError('could not fetch the JWKS', { cause: err });
}
