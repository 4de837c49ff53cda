/** The Idempotency-Key header: parsed once here, and replays marked on the response. */
import type { Request } from 'express';
import { ValidationError } from '../errors';
import type { IdempotentResult } from '../services/idempotency';
import type { Reply } from './manifest';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function idempotencyKey(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError('Idempotency-Key must be 1-255 printable ASCII characters', [{ path: 'Idempotency-Key', message: 'invalid' }]);
  }
  return key;
}

/** A create's reply; creates may carry a one-time secret, so nothing is cached. */
export function created<T>(result: Pick<IdempotentResult<T>, 'response' | 'replayed'>): Reply {
  return {
    status: 201,
    body: result.response,
    headers: result.replayed ? { 'Cache-Control': 'no-store', 'Idempotent-Replayed': 'true' } : { 'Cache-Control': 'no-store' },
  };
}
