/**
 * Admin authentication: `Authorization: Bearer aa_…`, resolved to an organization and a role.
 * Role checks are a separate step per route (`requireRole`).
 */
import type { NextFunction, Request, Response } from 'express';
import type { ApiKeyRole } from '../db/tables';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import type { AuthenticatedKey } from '../services/organizations';
import type { AuditContext } from '../services/audit';
import type { RequestLimiter } from './rate-limit';

const RANK: Record<ApiKeyRole, number> = { reader: 0, operator: 1, admin: 2 };

export function bearerToken(req: Request): string | undefined {
  const h = req.get('authorization');
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** Anything that resolves a presented API key: the organization service, or a cache in front of it. */
export interface ApiKeyResolver {
  authenticate(presented: string): Promise<AuthenticatedKey | null>;
}

export function authenticateApiKey(keys: ApiKeyResolver, limiter: RequestLimiter) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const token = bearerToken(req);
    if (!token) return next(new UnauthenticatedError('Send an API key: Authorization: Bearer aa_…'));
    const key = await keys.authenticate(token);
    if (!key) {
      await limiter.take(`ip:${req.ip}`); // failed guesses count against the client address
      return next(new UnauthenticatedError('The API key is invalid or revoked'));
    }
    await limiter.take(`key:${key.id}`);
    req.apiKey = key;
    next();
  };
}

export function requireRole(role: ApiKeyRole) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const key = req.apiKey;
    if (!key) return next(new UnauthenticatedError('Authentication required'));
    if (RANK[key.role] < RANK[role]) return next(new ForbiddenError(`This call needs the ${role} role; the key has ${key.role}`));
    next();
  };
}

export function auditContext(req: Request): AuditContext {
  const key = req.apiKey as AuthenticatedKey;
  return { organizationId: key.organizationId, actorType: 'api_key', actorId: key.id, requestId: req.id, clientIp: req.ip ?? null };
}
