/**
 * The direct lane: the hot OAuth endpoints (token, introspection, revocation: every agent's and
 * every relying service's request path) answered without Express. Express gives each request its
 * request and response prototypes, which makes node's own objects slow to use afterwards, and walks
 * its router's layers to find the route; together that costs more per request than introspection's
 * own work (docs/performance.md). The lane matches a method and an exact path with one map lookup
 * and runs the same steps Express would run for that route (app.ts builds them: preamble, metrics,
 * the route's chain from routes/mount.ts, its error handler) on node's own objects, given the few
 * members those steps read: `id`, `ip`, `originalUrl`, `path`, `body` (set by the steps) on the
 * request and `locals` on the response. Those steps use nothing else of Express's: they read
 * headers from `req.headers` and answer with `res.statusCode`, `res.setHeader` and `res.end`.
 * Anything the lane does not match exactly (another spelling of the path, a trailing slash, another
 * method) goes to Express, which serves the same routes the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import proxyAddr from 'proxy-addr';
import { runChain, Step } from './chain';

/** Express's compiled `trust proxy` setting (`app.get('trust proxy fn')`). */
export type TrustFunction = (address: string, hop: number) => boolean;

/** The members the lane's steps read, set on node's own request. */
interface LaneRequest extends IncomingMessage {
  id: string;
  ip: string | undefined;
  originalUrl: string;
  path: string;
  body: unknown;
}

export class DirectLane {
  private readonly routes = new Map<string, readonly Step[]>();

  /** `trust`: Express's compiled `trust proxy` function, so `ip` is what `req.ip` would be. */
  constructor(private readonly trust: TrustFunction) {}

  /** Serves `POST path` (exactly this spelling) with `chain`. */
  add(method: 'post', path: string, chain: readonly Step[]): void {
    this.routes.set(`${method.toUpperCase()} ${path}`, chain);
  }

  /** Answers the request if it is on the lane; false hands it to Express. */
  handle(incoming: IncomingMessage, response: ServerResponse): boolean {
    const url = incoming.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const chain = this.routes.get(`${incoming.method} ${path}`);
    if (!chain) return false;
    const req = incoming as LaneRequest;
    const res = response as ServerResponse & { locals: Record<string, unknown> };
    try {
      req.id = '';
      req.ip = proxyAddr(incoming, this.trust);
      req.originalUrl = url;
      req.path = path;
      req.body = undefined;
      res.locals = Object.create(null) as Record<string, unknown>;
    } catch (err) {
      // A listener that throws would take the process down; Express's router answers 500 instead.
      finish(res, err);
      return true;
    }
    runChain(chain, req as unknown as Request, res as unknown as Response, (err?: unknown) => finish(res, err));
    return true;
  }
}

/**
 * What Express's final handler does when a route's chain ends without answering: every lane route
 * ends with an error handler, so this is reached only when the answer was already under way.
 */
function finish(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    if (err) res.destroy();
    else if (!res.writableEnded) res.end();
    return;
  }
  res.statusCode = err ? 500 : 404;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(err ? { error: 'server_error', error_description: 'An internal error occurred' } : { error: 'invalid_request', error_description: 'No such endpoint' }));
}
