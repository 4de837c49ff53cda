import type { Request } from 'express';

/**
 * The request's full path as the client sent it, without the query string. Inside a mounted
 * router `req.path` is relative to the mount point (`/audit-events` for `/v1/audit-events`), which
 * makes logs lie; the query is left out because it is not needed to find a request and may carry
 * cursors or filters nobody asked to keep.
 */
export function requestPath(req: Request): string {
  const url = req.originalUrl;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
