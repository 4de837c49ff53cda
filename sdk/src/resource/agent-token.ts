/**
 * The resource servers' check of an agent's access token, shared by the HTTP middleware
 * (`requireAgentToken`) and the MCP verifier (`@certusordo/sdk/mcp`): `verifyAccessToken` (signature,
 * `typ`, the pinned issuer, expiry, and the audience: this resource), then the sender constraint
 * (RFC 9449 DPoP, when the caller hands in the request's proof; without one a DPoP-bound token is
 * refused), then, with `introspection`, the control plane's word.
 * Every failure is an `AgentTokenRefusal` with its RFC 6750 code.
 */
import { scopeCovers } from '../../../model/scope';
import { TokenVerificationError } from '../core/errors';
import { issuerBaseUrl, resolveIssuer, verifyAccessToken, type IssuerOptions, type VerifiedAccessToken } from '../auth/verify';
import { audiencesOf, checkResource } from './audience';
import { IntrospectionGate, type IntrospectionOptions, type IntrospectionTuning } from './introspection';
import { AgentTokenRefusal, type ChallengeScheme } from './refusal';
import { DpopReplayCache, verifyDpopPresentation } from '../auth/dpop';
import { base64urlDecode } from '../internal/encoding';
import { currentDpopNonce, dpopNonceSource, type DpopNonceSource, type HmacDpopNonceOptions } from './dpop-nonce';

export type AgentTokenVerifierOptions = IssuerOptions & {
  /** This server's identifier (its URL). Tokens whose `aud` is not this resource (one trailing slash aside) are refused. */
  resource: string;
  /** Also ask the control plane, so suspensions and revocations refuse the next call (within 1 s). */
  introspection?: (IntrospectionOptions & IntrospectionTuning) | undefined;
  /** Allowed clock skew in seconds (default 5). */
  clockToleranceSeconds?: number | undefined;
  /** Timeout of the metadata and JWKS requests (default 5000 ms). */
  timeoutMs?: number | undefined;
  /**
   * Delegated tokens (RFC 8693): `0` refuses every one (this resource wants the agent itself), N
   * accepts chains of at most N actors; default: any chain the control plane issued.
   */
  maxDelegationDepth?: number | undefined;
  /** Refuse bearer tokens: only DPoP-bound tokens with a proof pass (RFC 9728 `dpop_bound_access_tokens_required`). */
  requireDpop?: boolean | undefined;
  /**
   * The replay cache of DPoP proofs' `jti`s (default: one per verifier, bounded). It is per
   * process: replicas behind one name each need a shared jti store besides (docs/auth.md, DPoP).
   */
  dpopReplayCache?: DpopReplayCache | undefined;
  /**
   * Require a server nonce in DPoP proofs (RFC 9449 §9): `{ secret }` for stateless HMAC nonces
   * that every replica with the same secret accepts (`hmacDpopNonces`), or a `DpopNonceSource` of
   * your own. A proof without the current (or previous window's) nonce is refused
   * `use_dpop_nonce` with the nonce to use. Bearer tokens carry no proof and are not affected.
   */
  dpopNonce?: DpopNonceSource | HmacDpopNonceOptions | undefined;
  /** Milliseconds clock for DPoP proofs' `iat` window and nonces (default `Date.now`). */
  now?: (() => number) | undefined;
};

/** How a token arrived with its request: what the DPoP proof (RFC 9449 §4.3) is checked against. */
export interface TokenPresentation {
  /** The Authorization scheme. */
  scheme: ChallengeScheme;
  /** The request's `DPoP` header: undefined when absent, null when repeated. */
  proof: string | undefined | null;
  /** The request's method. */
  method: string;
  /** The request's URL as the client addressed it (the proof's `htu`). */
  url: string;
}

/**
 * RFC 8693 §4.1 `act`: who acts for whom. The outermost member is the current actor; a nested `act`
 * is the one before it.
 */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim | undefined;
  [claim: string]: unknown;
}

export interface DpopProofInfo {
  jkt: string;
  jti: string;
  /**
   * With `dpopNonce`: a newer nonce than the proof's (its window has passed), for the answer's
   * `DPoP-Nonce` header so the client moves on before the old one is refused; `requireAgentToken`
   * sets it. Undefined when the proof's nonce is still the current one.
   */
  nextNonce: string | undefined;
}

/** An agent's token, accepted for this resource. */
export interface VerifiedAgentToken {
  /** The agent id (`sub`). */
  agentId: string;
  organizationId: string | undefined;
  /** Set for a session token. */
  sessionId: string | undefined;
  /**
   * The scopes the token holds: those it was signed with or, with `introspection`, those the
   * control plane says it holds now (narrower when a scope was removed from the agent or an actor).
   */
  scopes: string[];
  expiresAt: Date;
  /** This server's identifier, which the token's audience names. */
  resource: string;
  /** The delegation chain (`act`), when the token carries one. */
  delegation: ActorClaim | undefined;
  /**
   * A delegated token's actors, the first (to whom the subject delegated) first and the agent
   * making this call last; [] for the agent's own token. `agentId` is the subject represented.
   */
  actors: string[];
  /** The agent making the call: the current actor of a delegated token, else `agentId`. */
  actor: string;
  /**
   * For a DPoP-bound token: the key its proof was checked against (`cnf.jkt`) and the proof's
   * `jti`, which replicas sharing a jti store record (docs/auth.md, DPoP: replays).
   */
  dpop: DpopProofInfo | undefined;
  /** Every claim as sent. */
  claims: VerifiedAccessToken['payload'];
}

export interface AgentTokenVerifier {
  /** The issuer whose tokens are accepted. */
  readonly issuer: string;
  readonly resource: string;
  /**
   * Verifies a token for this resource; throws `AgentTokenRefusal`. Without `presentation` only
   * bearer tokens pass (a DPoP-bound token needs its request's proof); with it, the DPoP rules.
   */
  verify(token: string, presentation?: TokenPresentation): Promise<VerifiedAgentToken>;
}

const NOT_ACTIVE = 'The access token is no longer active (revoked, agent suspended, or session ended)';

/** The `jti` and `nonce` of a proof the DPoP check has just accepted (so its payload is well-formed JSON with a string jti). */
function proofClaims(proof: string): { jti: string; nonce?: string } {
  return JSON.parse(new TextDecoder().decode(base64urlDecode(proof.split('.')[1]!))) as { jti: string; nonce?: string };
}

/** Which check refused the token, in words a client can act on (jose's `claim` names the failed claim). */
function describeFailedCheck(err: TokenVerificationError): string {
  const claim = (err.cause as { claim?: unknown } | undefined)?.claim;
  if (claim === 'aud') return 'The token was not issued for this resource: request it with resource=<this server\'s URL>';
  if (claim === 'iss') return 'The token was not issued by this organization\'s issuer';
  if (err.code === 'ERR_JWT_EXPIRED') return 'The token has expired';
  return `The access token is invalid: ${err.message}`;
}

export function createAgentTokenVerifier(options: AgentTokenVerifierOptions): AgentTokenVerifier {
  const issuer = resolveIssuer(options);
  const resource = checkResource(options.resource);
  const audience = audiencesOf(resource);
  const gate = options.introspection ? new IntrospectionGate(issuerBaseUrl(issuer), options.introspection, options.introspection) : undefined;
  const replay = options.dpopReplayCache ?? new DpopReplayCache();
  const now = options.now ?? Date.now;
  const nonces = options.dpopNonce ? dpopNonceSource(options.dpopNonce) : undefined;

  /** The accepted proof's key and jti, and a newer nonce when the proof's has aged (see DpopProofInfo). */
  async function proofInfo(jkt: string, proof: string, nowMs: number): Promise<DpopProofInfo> {
    const { jti, nonce } = proofClaims(proof);
    const current = nonces ? await currentDpopNonce(nonces, nowMs) : undefined;
    return { jkt, jti, nextNonce: current !== undefined && current !== nonce ? current : undefined };
  }

  /** The sender constraint (model/dpop.ts rules), answered with the DPoP challenge on failure. */
  async function senderConstraint(token: string, jkt: string | undefined, p: TokenPresentation | undefined): Promise<DpopProofInfo | undefined> {
    if (p === undefined) {
      // A key-bound token is worthless without its proof, which a token-only check never sees; a
      // resource that requires DPoP accepts no token without the request its proof is checked against.
      if (jkt !== undefined) throw new AgentTokenRefusal('invalid_token', 'This token is bound to a key (DPoP); this check accepts bearer tokens only', { scheme: 'dpop' });
      if (options.requireDpop) throw new AgentTokenRefusal('invalid_token', 'This resource requires DPoP-bound tokens: verify them with the request (method, url and DPoP proof)', { scheme: 'dpop' });
      return undefined;
    }
    if (options.requireDpop && jkt === undefined) {
      throw new AgentTokenRefusal('invalid_token', 'This resource requires DPoP-bound tokens: request the token with a DPoP proof', { scheme: 'dpop' });
    }
    const nowMs = now();
    const r = await verifyDpopPresentation({
      scheme: p.scheme, token, jkt, proof: p.proof, htm: p.method, htu: p.url, nowSeconds: Math.floor(nowMs / 1000), replay,
      nonce: nonces && ((n: string) => nonces.accepts(n, nowMs)),
    });
    if (r.ok) return r.jkt === undefined || typeof p.proof !== 'string' ? undefined : proofInfo(r.jkt, p.proof, nowMs);
    // A bearer token sent as DPoP: no proof can bind it, answered with the Bearer challenge.
    if (r.error === 'invalid_token') throw new AgentTokenRefusal('invalid_token', r.message);
    // A bound token sent as Bearer is not a bad proof but a token the Bearer scheme cannot carry (RFC 9449 §7.2).
    if (r.reason === 'bearer_scheme') throw new AgentTokenRefusal('invalid_token', r.message, { scheme: 'dpop' });
    // RFC 9449 §9: the refusal carries the nonce to retry with.
    if (r.error === 'use_dpop_nonce' && nonces) throw new AgentTokenRefusal(r.error, r.message, { dpopNonce: await currentDpopNonce(nonces, nowMs) });
    throw new AgentTokenRefusal(r.error, r.message);
  }

  async function offline(token: string): Promise<VerifiedAccessToken> {
    try {
      return await verifyAccessToken(token, { issuer, audience, clockToleranceSeconds: options.clockToleranceSeconds, timeoutMs: options.timeoutMs, maxDelegationDepth: options.maxDelegationDepth });
    } catch (err) {
      if (err instanceof TokenVerificationError) throw new AgentTokenRefusal('invalid_token', describeFailedCheck(err), { cause: err });
      throw new AgentTokenRefusal('temporarily_unavailable', 'The issuer\'s signing keys could not be fetched; retry later', { cause: err });
    }
  }

  return {
    issuer,
    resource,
    async verify(token: string, presentation?: TokenPresentation): Promise<VerifiedAgentToken> {
      if (typeof token !== 'string' || token === '') throw new AgentTokenRefusal('missing_token', 'Send an agent access token: Authorization: Bearer <token>');
      const verified = await offline(token);
      // A cnf this check cannot read (no jkt) binds the token to something unknown: refused.
      if (verified.payload.cnf !== undefined && verified.jkt === undefined) throw new AgentTokenRefusal('invalid_token', 'The token is bound to a key in a form this resource server does not verify');
      const dpop = await senderConstraint(token, verified.jkt, presentation);
      let scopes = verified.scopes;
      if (gate) {
        const verdict = await gate.check(token, typeof verified.payload.jti === 'string' ? verified.payload.jti : token);
        if (!verdict.ok) throw new AgentTokenRefusal('temporarily_unavailable', 'The control plane could not confirm the token; retry later', { cause: verdict.cause });
        if (!verdict.active) throw new AgentTokenRefusal('invalid_token', NOT_ACTIVE);
        // What the token holds now: the control plane's answer, never more than the token was signed with.
        if (verdict.scopes !== undefined) scopes = verdict.scopes.filter((s) => scopeCovers(verified.scopes, s));
      }
      return {
        agentId: verified.sub,
        organizationId: verified.organizationId,
        sessionId: verified.sid,
        scopes,
        expiresAt: verified.expiresAt,
        resource,
        // verifyAccessToken checked the act claim's shape (actorChain) and the depth.
        delegation: verified.payload.act as ActorClaim | undefined,
        actors: verified.actors,
        actor: verified.actor,
        dpop,
        claims: verified.payload,
      };
    },
  };
}

/**
 * Refuses `token` unless its scopes cover every scope in `required` (`resource:*` covers every
 * action on the resource, as everywhere in CertusOrdo); `insufficient_scope` names those missing.
 */
export function requireScopes(token: VerifiedAgentToken, required: readonly string[]): void {
  const missing = required.filter((s) => !scopeCovers(token.scopes, s));
  if (missing.length > 0) {
    throw new AgentTokenRefusal('insufficient_scope', `The token lacks the scope${missing.length > 1 ? 's' : ''} this request needs: ${missing.join(' ')}`, { scope: missing.join(' ') });
  }
}

/**
 * The MCP SDK's `AuthInfo` shape (typed structurally: the SDK works without `@modelcontextprotocol/sdk`):
 * the agent id as `clientId`, expiry in seconds, and the organization, session and delegation in `extra`.
 */
export interface AgentAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  resource: URL;
  extra: AgentAuthExtra;
}

export interface AgentAuthExtra extends Record<string, unknown> {
  organizationId: string | undefined;
  sessionId: string | undefined;
  /** The delegation chain (`act`), when the token carries one. */
  delegation: ActorClaim | undefined;
  /** The actors of a delegated token, first to current; [] for the agent's own token (`clientId` is the subject). */
  actors: string[];
}

export function agentAuthInfo(token: string, verified: VerifiedAgentToken): AgentAuthInfo {
  return {
    token,
    clientId: verified.agentId,
    scopes: verified.scopes,
    expiresAt: Math.floor(verified.expiresAt.getTime() / 1000),
    resource: new URL(verified.resource),
    extra: { organizationId: verified.organizationId, sessionId: verified.sessionId, delegation: verified.delegation, actors: verified.actors },
  };
}
