/**
 * HTTP side of the metrics: the per-request latency middleware, the `GET /metrics` handler, and
 * the optional separate listener (CERTUSORDO_METRICS_PORT) that keeps the endpoint off the public
 * port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { Metrics, methodLabel, UNMATCHED_ROUTE } from './metrics';

const ROUTE = Symbol('route');
const TEMPLATE = Symbol('routeTemplate');

interface TrackedRequest {
  baseUrl: string;
  [ROUTE]?: unknown;
  [TEMPLATE]?: string;
}

/**
 * Remembers each request's route template at the moment Express matches its route: the mount
 * path (req.baseUrl, which Express restores when an error leaves a router, so it must be read
 * then) plus the route's own path, e.g. `/v1/agents/:id`; never the request's URL. Defined once
 * on the app's request prototype: nothing is allocated per request. Mount paths are literal
 * strings in this application; Express matches them case-insensitively, so they are lower-cased
 * (`/V1/…` must not make a new series).
 */
export function trackRouteTemplates(app: Express): void {
  Object.defineProperty(app.request, 'route', {
    configurable: true,
    enumerable: true,
    get(this: TrackedRequest) {
      return this[ROUTE];
    },
    set(this: TrackedRequest, route: { path?: unknown } | undefined) {
      this[ROUTE] = route;
      this[TEMPLATE] = route && typeof route.path === 'string' ? this.baseUrl.toLowerCase() + route.path : undefined;
    },
  });
}

export function routeTemplate(req: Request): string {
  return (req as unknown as TrackedRequest)[TEMPLATE] ?? UNMATCHED_ROUTE;
}

/** A step that gives the request its route template where Express's route matching does not run (the direct lane). */
export function routeTemplateStep(template: string): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction): void => {
    (req as unknown as TrackedRequest)[TEMPLATE] = template;
    next();
  };
}

/** Observes every request's latency when its response finishes (or its connection closes). */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = performance.now();
    let done = false;
    const observe = () => {
      if (done) return;
      done = true;
      metrics.observeRequest(methodLabel(req.method), routeTemplate(req), res.statusCode, (performance.now() - start) / 1000);
    };
    res.once('finish', observe);
    res.once('close', observe);
    next();
  };
}

export function metricsHandler(metrics: Metrics): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction): void => {
    metrics.text().then((body) => {
      res.setHeader('Content-Type', metrics.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.end(body);
    }, next);
  };
}

/** A listener that answers only `GET /metrics` (everything else 404). */
export async function startMetricsServer(metrics: Metrics, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.text().then(
      (body) => void res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body),
      () => void res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${h === '0.0.0.0' ? '127.0.0.1' : h}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
