/**
 * Delegation (RFC 8693 token exchange): an agent named in another agent's `may_act` may exchange
 * that agent's access token for one that acts for it. The rules, their words and the token's
 * shape, once: the API's validation and token endpoint, the SDKs' verifiers, the provider, the
 * constructs and the CLI read them from here. Dependency-free (the browser SDK imports it).
 */

/** The token-exchange grant type (RFC 8693 §2.1). */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The only token type exchanged and issued: a CertusOrdo access token (RFC 8693 §3). */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** How many agents one agent's `may_act` may list. */
export const MAY_ACT_MAX = 100;
export const MAY_ACT_RULE =
  `ids of agents of the same organization that may act for this agent (RFC 8693 token exchange), at most ${MAY_ACT_MAX}, none revoked, not the agent itself; empty (the default): nobody may`;

/** Chain depth (the number of actors in a token): `CERTUSORDO_DELEGATION_MAX_DEPTH`, 1-10, default 3. */
export const DELEGATION_MAX_DEPTH_MIN = 1;
export const DELEGATION_MAX_DEPTH_LIMIT = 10;
export const DELEGATION_MAX_DEPTH_DEFAULT = 3;
export const DELEGATION_MAX_DEPTH_RULE =
  `\`CERTUSORDO_DELEGATION_MAX_DEPTH\` actors (${DELEGATION_MAX_DEPTH_MIN}-${DELEGATION_MAX_DEPTH_LIMIT}, default ${DELEGATION_MAX_DEPTH_DEFAULT})`;

/**
 * The private claim of a delegated token that lists the jtis of the tokens it was exchanged from,
 * the original subject token first: revoking any of them ends it.
 */
export const PARENT_JTIS_CLAIM = 'parent_jtis';

/** RFC 8693 §4.1 `act`: the current actor, with the actor before it nested inside. */
export interface ActClaim {
  sub: string;
  act?: ActClaim;
}

/**
 * The actors of a token's `act` claim, the first actor (the one the subject delegated to) first
 * and the current actor last; [] for a token without `act`; null when the claim is malformed (not
 * nested objects with a string `sub` each, or deeper than `maxDepth`).
 */
export function actorChain(act: unknown, maxDepth = DELEGATION_MAX_DEPTH_LIMIT): string[] | null {
  const outermostFirst: string[] = [];
  let node: unknown = act;
  while (node !== undefined) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return null;
    const { sub, act: inner } = node as { sub?: unknown; act?: unknown };
    if (typeof sub !== 'string' || sub.length === 0) return null;
    outermostFirst.push(sub);
    if (outermostFirst.length > maxDepth) return null;
    node = inner;
  }
  return outermostFirst.reverse();
}

/** The `act` claim for a chain of actors (first actor first, current actor last). */
export function actClaim(chain: readonly string[]): ActClaim | undefined {
  let act: ActClaim | undefined;
  for (const sub of chain) act = act ? { sub, act } : { sub };
  return act;
}
