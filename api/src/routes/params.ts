import type { Request } from 'express';

/** A named path parameter as a string (Express 5 types allow arrays for wildcard segments). */
export function param(req: Request, name: string): string {
  const v = (req.params as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v.join('/') : (v ?? '');
}
