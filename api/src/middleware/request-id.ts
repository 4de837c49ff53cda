/** Gives every request an id (echoing a sane incoming X-Request-Id) for logs, errors and audit events. */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';

const SANE = /^[A-Za-z0-9._:-]{1,128}$/;

export function assignRequestId(req: Request, res: Response): void {
  const incoming = req.headers['x-request-id'];
  req.id = typeof incoming === 'string' && SANE.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', req.id);
}
