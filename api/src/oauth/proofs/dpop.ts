/**
 * DPoP at the token endpoint (RFC 9449 §5): when the request carries a `DPoP` header, its proof
 * is checked (model/dpop.ts: typ, alg EdDSA/Ed25519/ES256, public jwk, signature, htm POST, htu
 * the token endpoint, iat window, jti not replayed, the server nonce when required) and the token
 * is bound to the proof's key: `cnf.jkt` (its RFC 7638 thumbprint) and `token_type: DPoP`.
 * Without the header the token is a bearer token, as before.
 *
 * A step of every grant that issues tokens: it runs after the client is authenticated (only an
 * authenticated agent's proofs enter the replay cache) and before the assertion is claimed (a
 * refused proof, e.g. one without the nonce, leaves the client free to retry).
 */
import type { NextFunction, Request, Response } from 'express';
import { InvalidDpopProofError, UseDpopNonceError } from '../../domain/errors';
import type { DpopProofs } from '../../tokens/dpop';
import { tokenLocals, type TokenEndpointDeps } from '../token-steps';

/** The request's one `DPoP` header: undefined when absent, null when repeated. */
export function dpopHeader(req: Request): string | undefined | null {
  const values = req.headersDistinct['dpop'];
  if (!values || values.length === 0) return undefined;
  return values.length === 1 ? values[0]! : null;
}

/** The error a failed check is answered with: use_dpop_nonce, or else invalid_dpop_proof. */
export function dpopError(result: { error: string; reason: string; message: string }): InvalidDpopProofError | UseDpopNonceError {
  return result.error === 'use_dpop_nonce' ? new UseDpopNonceError(result.message, result.reason) : new InvalidDpopProofError(result.message, result.reason);
}

/** Hands clients the current nonce on every answer (RFC 9449 §8.2), when the server requires nonces. */
async function offerNonce(dpop: DpopProofs, res: Response): Promise<void> {
  const nonce = await dpop.currentNonce();
  if (nonce !== undefined) res.setHeader('DPoP-Nonce', nonce);
}

export function dpopProof(deps: Pick<TokenEndpointDeps, 'dpop' | 'tokens'>) {
  return async function dpopProof(req: Request, res: Response, next: NextFunction): Promise<void> {
    const proof = dpopHeader(req);
    if (proof === undefined) return next();
    await offerNonce(deps.dpop, res);
    if (proof === null) return next(new InvalidDpopProofError('Send one DPoP header', 'repeated_header'));
    const result = await deps.dpop.check({ proof, htm: 'POST', htu: deps.tokens.tokenEndpoint });
    if (!result.ok) return next(dpopError(result));
    const locals = tokenLocals(res);
    locals.issue = { ...locals.issue, claims: { ...locals.issue?.claims, cnf: { jkt: result.jkt } } };
    next();
  };
}
