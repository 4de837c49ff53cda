/**
 * For relying services: verify a CertusOrdo access token locally against the control plane's JWKS
 * (no call per request; keys are fetched once and cached by jose). Compare with
 * `CertusOrdoClient.introspect`, which asks the server and also sees revocations made since the
 * token was issued.
 */
import type { createRemoteJWKSet, JWTPayload } from 'jose';
import { APIConnectionError, APITimeoutError, TokenVerificationError } from '../errors';

export interface VerifyAccessTokenOptions {
  /** Expected `iss` (the control plane's issuer, normally its base URL). */
  issuer: string;
  /** The JWKS URL, e.g. `<baseUrl>/.well-known/jwks.json`. */
  jwksUrl: string;
  /** Expected `aud`, when your service is a named audience. */
  audience?: string | string[];
  /** Allowed clock skew in seconds (default 5). */
  clockToleranceSeconds?: number;
}

export interface VerifiedAccessToken {
  /** The agent id. */
  sub: string;
  /** Granted scopes (from the space-separated `scope` claim). */
  scopes: string[];
  clientId: string | undefined;
  /** Session id, for session tokens. */
  sid: string | undefined;
  expiresAt: Date;
  /** Every claim as sent. */
  payload: JWTPayload & Record<string, unknown>;
}

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;
const jwksCache = new Map<string, RemoteJwks>();

/** jose is loaded on first use, so admin-only users (and the CLI) do not pay for it. */
const loadJose = () => import('jose');

/** One remote key set per URL for the process, so keys are fetched once (and on rotation). */
function remoteJwks(jose: Awaited<ReturnType<typeof loadJose>>, url: string): RemoteJwks {
  let jwks = jwksCache.get(url);
  if (!jwks) {
    jwks = jose.createRemoteJWKSet(new URL(url));
    jwksCache.set(url, jwks);
  }
  return jwks;
}

/** Verifies signature (EdDSA), `typ: at+jwt`, issuer, expiry and optionally audience. */
export async function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<VerifiedAccessToken> {
  const jose = await loadJose();
  let payload: JWTPayload;
  try {
    ({ payload } = await jose.jwtVerify(token, remoteJwks(jose, options.jwksUrl), {
      issuer: options.issuer,
      ...(options.audience === undefined ? {} : { audience: options.audience }),
      typ: 'at+jwt',
      algorithms: ['EdDSA'],
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ['sub', 'exp'],
    }));
  } catch (err) {
    throw toVerificationError(jose, err);
  }
  const scope = typeof payload.scope === 'string' ? payload.scope : '';
  return {
    sub: payload.sub!,
    scopes: scope.split(' ').filter(Boolean),
    clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
    sid: typeof payload.sid === 'string' ? payload.sid : undefined,
    expiresAt: new Date(payload.exp! * 1000),
    payload: payload as JWTPayload & Record<string, unknown>,
  };
}

function toVerificationError(jose: Awaited<ReturnType<typeof loadJose>>, err: unknown): Error {
  const joseErrors = jose.errors;
  if (err instanceof joseErrors.JWKSTimeout) return new APITimeoutError('timed out fetching the JWKS', { cause: err });
  if (err instanceof joseErrors.JOSEError) {
    // jose's messages describe the failed check (e.g. '"exp" claim timestamp check failed'), never the token.
    return new TokenVerificationError(err.message, { code: err.code, cause: err });
  }
  return new APIConnectionError('could not fetch the JWKS', { cause: err });
}
