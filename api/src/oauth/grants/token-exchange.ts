/**
 * OAuth 2.0 token exchange (RFC 8693) for delegation between agents: the actor authenticates (by
 * any registered client-authentication method) and presents an access token of the subject; it
 * gets a token whose `sub` is the subject and whose `act` names it (nested for chains, §4.1).
 *
 * Refused with invalid_grant: a subject token that is not active (expired, revoked, its agent or
 * an actor in its chain no longer active, a link of its chain removed), another organization's, a
 * session token, an actor the subject's (or, in a chain, the last actor's) `may_act` does not
 * list, a chain longer than the cap. invalid_scope: a scope the subject token or the actor lacks.
 * invalid_target: a bad `resource` (the shared step). The actor's assertion is consumed and its
 * budget spent only for an exchange that passes these checks.
 */
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { CLIENT_ASSERTION_TYPE } from '../../services/tokens';
import { DomainError, InvalidGrantError, InvalidScopeError } from '../../domain/errors';
import { ACCESS_TOKEN_TYPE, actClaim, actorChain, DELEGATION_MAX_DEPTH_RULE, PARENT_JTIS_CLAIM, TOKEN_EXCHANGE_GRANT_TYPE } from '../../../../model/delegation';
import { intersectScopes, scopeCovers } from '../../../../model/scope';
import { TOKEN_SCOPE_PARAM_MAX, TOKEN_SCOPE_PARAM_RULE } from '../../../../model/limits';
import { bodyParam, requestInfo } from '../middleware';
import { authenticateClient, claimAssertion, issueToken, tokenLocals, validateScope } from '../token-steps';
import { dpopProof } from '../proofs/dpop';
import type { TokenEndpointDeps } from '../token-steps';
import type { Grant } from './grant';

const refused = (description: string, reason: string) => new InvalidGrantError(description, reason);

/** Checks the subject token against the authenticated actor and sets what the token will carry. */
function exchangeSubjectToken(deps: TokenEndpointDeps) {
  return async function exchangeSubjectToken(req: Request, res: Response, next: NextFunction): Promise<void> {
    const locals = tokenLocals(res);
    const actor = locals.client!;
    try {
      if (bodyParam(req, 'subject_token_type') !== ACCESS_TOKEN_TYPE) throw refused(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`, 'unsupported_token_type');
      const subjectToken = bodyParam(req, 'subject_token');
      if (!subjectToken) throw refused('subject_token is required', 'missing_subject_token');
      // Any actor_token is ignored: the actor is the authenticated client (RFC 8693 §2.1 leaves it optional).
      const subject = await deps.tokens.validate(subjectToken);
      // Another organization's token gets the same answer as one that does not exist.
      if (!subject || subject.org_id !== actor.orgId) throw refused('subject_token is not an active access token', 'subject_token_inactive');
      if (subject.sid !== undefined) throw refused('A session token cannot be exchanged', 'subject_token_session');
      const chain = actorChain(subject.act) ?? [];
      const depth = chain.length + 1;
      const max = deps.tokens.delegationMaxDepth;
      if (depth > max) throw refused(`The delegation chain would be ${depth} actors long; at most ${max} (${DELEGATION_MAX_DEPTH_RULE})`, 'delegation_too_deep');
      // In a chain, the last actor decides who may act next (its own may_act).
      const delegator = chain.at(-1) ?? subject.sub;
      const grantedAtMs = await deps.tokens.delegationGrantedAt(delegator, actor.agentId);
      if (grantedAtMs === null) throw refused(`This agent is not in the may_act of ${delegator === subject.sub ? 'the subject' : 'the last actor'}`, 'actor_not_allowed');

      const subjectScopes = subject.scope.split(' ').filter(Boolean);
      const requested = locals.scopes; // checked against the actor's scopes by validateScope
      if (requested) {
        const beyond = requested.find((s) => !scopeCovers(subjectScopes, s));
        if (beyond) throw new InvalidScopeError(`The scope "${beyond}" is not in the subject token`, 'scope_not_in_subject_token');
      }
      const scopes = requested ?? intersectScopes(subjectScopes, actor.scopes);
      if (scopes.length === 0) throw new InvalidScopeError('The subject token and this agent have no scope in common', 'no_common_scope');
      locals.scopes = scopes;

      const newChain = [...chain, actor.agentId];
      locals.issue = {
        ...locals.issue,
        claims: { ...locals.issue?.claims, act: actClaim(newChain), [PARENT_JTIS_CLAIM]: [...(subject.parent_jtis ?? []), subject.jti] },
        delegation: {
          subjectId: subject.sub,
          notAfterSeconds: subject.exp,
          notBeforeMs: Math.max(subject.iat_ms, grantedAtMs),
          audit: { subject_token_jti: subject.jti, actors: newChain, act: actClaim(newChain) },
        },
      };
    } catch (err) {
      if (err instanceof DomainError) {
        deps.tokens.recordFailure({ ok: false, error: err, agent: { id: actor.agentId, orgId: actor.orgId }, method: actor.method }, requestInfo(req));
      }
      return next(err);
    }
    next();
  };
}

export const tokenExchange: Grant = {
  grantType: TOKEN_EXCHANGE_GRANT_TYPE,
  parameters: z
    .looseObject({
      grant_type: z.literal(TOKEN_EXCHANGE_GRANT_TYPE),
      subject_token: z.string().describe('An active access token of the subject agent (the agent acted for), of the actor\'s organization; not a session token'),
      subject_token_type: z.literal(ACCESS_TOKEN_TYPE),
      client_assertion_type: z.literal(CLIENT_ASSERTION_TYPE),
      client_assertion: z.string().describe('The actor authenticates as for client_credentials; it must be in the may_act of the subject (or, for a delegated subject token, of its last actor)'),
      client_id: z.string().optional().describe('The actor agent id'),
      scope: z.string().max(TOKEN_SCOPE_PARAM_MAX).optional().describe('Space-separated scopes within both the subject token\'s and the actor\'s; omitted: all they share' + `; ${TOKEN_SCOPE_PARAM_RULE}`),
      resource: z.union([z.string(), z.array(z.string())]).optional().describe('RFC 8707: the service(s) the token is for (its aud); repeatable'),
      actor_token: z.string().optional().describe('Not needed and not read: the actor is the authenticated client'),
      actor_token_type: z.string().optional(),
    })
    .meta({ id: 'TokenExchangeRequest' }),
  // A DPoP proof of the actor binds the new token to the actor's key (cnf.jkt), as for client credentials.
  steps: (deps) => [authenticateClient(deps), validateScope(deps.tokens), exchangeSubjectToken(deps), dpopProof(deps), claimAssertion(deps), issueToken(deps)],
};
