/** The Idempotency-Key header: parsed once here, and replays marked on the response. */
import type { Request, Response } from 'express';
import { ValidationError } from '../errors';
import type { IdempotentResult } from '../services/idempotency';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function idempotencyKey(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError('Idempotency-Key must be 1-255 printable ASCII characters', [{ path: 'Idempotency-Key', message: 'invalid' }]);
  }
  return key;
}

/** Sends a create's result; creates may carry a one-time secret, so nothing is cached. */
export function sendCreated<T>(res: Response, result: IdempotentResult<T>): void {
  if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.setHeader('Cache-Control', 'no-store');
  res.status(result.status).json(result.response);
}
