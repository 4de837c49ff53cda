/**
 * The one request pipeline every manifest route runs through, as named steps:
 * `before` (the route's own first steps) → read the request (its `reads` encoding) → authenticate
 * (the one Authenticator, driven by `auth`) → validate params, query and body (the route's
 * schemas) and the Idempotency-Key → the handler → render the reply. Errors are rendered in the
 * route's error shape: the app-wide API error handler, or RFC 6749 bodies for `oauth` routes.
 */
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { ZodError } from 'zod';
import { ValidationError } from '../errors';
import type { Logger } from '../logger';
import type { Authenticator } from '../middleware/auth';
import { jsonBody } from '../middleware/body';
import { oauthErrorHandler } from '../oauth/errors';
import { parseBody, rejectDupes } from '../oauth/middleware';
import type { Step } from '../http/chain';
import { idempotencyKey } from './idempotency';
import type { HandledRoute, Reply, Route, RouteContext, RouteManifest } from './manifest';

export interface MountOptions {
  authenticator: Authenticator;
  bodyLimitBytes: number;
  logger: Logger;
  /** Receives the chain of every `lane: 'direct'` route, as mounted on Express. */
  direct?(method: 'post', path: string, chain: readonly Step[]): void;
}

/** `/v1/agents/{id}` → `/v1/agents/:id`. */
export function expressPath(template: string): string {
  return template.replace(/\{(\w+)\}/g, ':$1');
}

/** Mounts every route of `manifest` on `router`, its handlers given `deps`. */
export function mountManifest<D>(router: Router, manifest: RouteManifest<D>, deps: D, o: MountOptions): void {
  const readers = {
    json: [jsonBody(o.bodyLimitBytes)],
    oauth_params: [parseBody(o.bodyLimitBytes), rejectDupes],
    nothing: [],
  } satisfies Record<Route<D>['reads'], RequestHandler[]>;
  const oauthErrors = oauthErrorHandler(o.logger);
  for (const route of manifest.routes) {
    const chain: Step[] = [...(route.before?.(deps) ?? [])];
    if (route.steps) chain.push(...route.steps(deps));
    else chain.push(...readers[route.reads], handlerStep(route, deps, o.authenticator));
    // API-shaped errors fall through to the app's error handler.
    if (route.errorShape === 'oauth') chain.push(oauthErrors);
    router[route.method](expressPath(route.path), ...chain);
    if (route.lane === 'direct') {
      if (route.method !== 'post' || route.path.includes('{')) throw new Error(`${route.method} ${route.path}: only POST routes without path parameters can take the direct lane`);
      o.direct?.('post', route.path, chain);
    }
  }
}

function handlerStep<D>(route: HandledRoute<D>, deps: D, authenticator: Authenticator): RequestHandler {
  const { body, query, params } = route;
  return async function handle(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const caller = await authenticator.authenticate(req, route.auth);
      const ctx: RouteContext = {
        caller,
        params: params?.parse(req.params),
        query: query?.parse(req.query),
        body: body?.parse(req.body),
        idempotencyKey: route.idempotent ? idempotencyKey(req) : undefined,
        request: { requestId: req.id, clientIp: req.ip ?? null },
      };
      render(req, res, route, await route.handle(ctx, deps));
    } catch (err) {
      next(route.errorShape === 'oauth' ? oauthValidationError(err) : err);
    }
  };
}

/**
 * An OAuth error body has no details: a schema violation is described by its first issue's
 * message (the schemas word them for this, e.g. "The token parameter is required").
 */
function oauthValidationError(err: unknown): unknown {
  if (!(err instanceof ZodError)) return err;
  const issue = err.issues[0];
  return new ValidationError(issue?.message ?? 'The request is invalid', err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
}

/**
 * Renders a reply. Only GET answers carry an ETag (conditional requests are for reads); other
 * answers are written without hashing the body.
 */
function render(req: Request, res: Response, route: Route<unknown>, reply: Reply): void {
  res.statusCode = reply.status ?? 200;
  if (reply.headers) for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  if (reply.body === undefined) return void res.end();
  const type = route.contentType ?? 'application/json';
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (type === 'application/json') return void res.json(reply.body);
    return void res.type(type).send(JSON.stringify(reply.body));
  }
  res.setHeader('Content-Type', `${type}; charset=utf-8`);
  res.end(JSON.stringify(reply.body));
}
