/**
 * The Express application: the middleware every request passes (request id, access log, metrics,
 * draining, security headers), the documents (/v1/openapi.json, /docs, /console, /metrics), every
 * route manifest mounted through the one pipeline (routes/mount.ts), and the error handler. Built
 * by the composition root (compose.ts) from what it hands in; no globals, so tests build as many
 * independent apps as they need.
 */
import type { RequestListener } from 'node:http';
import express, { Express, NextFunction, Request, Response } from 'express';
import type { Config } from './config';
import type { Logger } from './logger';
import './http/express-augment';
import { requestPath } from './http/request-path';
import { assignRequestId } from './middleware/request-id';
import { apiSecurityHeaders, type HeaderList, securityHeaders } from './middleware/security-headers';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import type { Authenticator } from './middleware/auth';
import type { Metrics } from './metrics/metrics';
import { metricsHandler, requestMetrics, routeTemplateStep, trackRouteTemplates } from './metrics/http';
import { DirectLane, type TrustFunction } from './http/direct-lane';
import type { Step } from './http/chain';
import { consoleRouter } from './routes/console';
import type { OpenApiDocument } from './openapi';
import { apiReferenceRouter } from './routes/api-reference';
import type { Lifecycle } from './routes/health';
import type { RouteManifest } from './routes/manifest';
import { expressPath, mountManifest } from './routes/mount';

export type { Lifecycle } from './routes/health';

export interface AppDeps<D> {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Shutdown state: while draining, every response closes its connection. */
  lifecycle: Lifecycle;
  /** The one authenticator every route's `auth` goes through. */
  authenticator: Authenticator;
  routes: readonly RouteManifest<D>[];
  /** What the routes' handlers are given (the services). */
  routeDeps: D;
  /** Generated from `routes` (openapi.ts): served as JSON and rendered at /docs. */
  openApi: OpenApiDocument;
}

/**
 * What every request gets before its route, in one middleware: an id, the access log line (only
 * when the level logs it), `Connection: close` while draining, the security headers.
 */
/** The paths that serve documents to browsers (the rest answer JSON). */
const DOCUMENT_PATHS = /^\/(console|docs)(\/|$)/;

function preamble(logger: Logger, lifecycle: Lifecycle, documentHeaders: HeaderList) {
  const apiHeaders = apiSecurityHeaders(documentHeaders);
  const logs = logger.isLevelEnabled('info');
  return (req: Request, res: Response, next: NextFunction): void => {
    assignRequestId(req, res);
    if (logs) {
      const start = process.hrtime.bigint();
      res.on('finish', () => {
        // Path only: query strings and headers may carry credentials.
        logger.info({ request_id: req.id, method: req.method, path: requestPath(req), status: res.statusCode, ms: Number(process.hrtime.bigint() - start) / 1e6 }, 'request');
      });
    }
    // A load balancer reuses kept-alive connections: close each one after its response while
    // draining, so none is left open (and then cut) when the listener closes.
    if (lifecycle.draining) res.setHeader('Connection', 'close');
    for (const [name, value] of DOCUMENT_PATHS.test(req.path) ? documentHeaders : apiHeaders) res.setHeader(name, value);
    next();
  };
}

export interface HttpApp {
  /** Every route, through Express. */
  app: Express;
  /** The server's request listener: the direct lane's routes (http/direct-lane.ts), then Express. */
  listener: RequestListener;
}

export function createApp<D>(deps: AppDeps<D>): HttpApp {
  const { config, logger, metrics, lifecycle } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // req.ip (per-address limits, audit client_ip) is the socket address unless proxies are configured.
  app.set('trust proxy', typeof config.trustProxy === 'object' ? [...config.trustProxy] : config.trustProxy);

  const everyRequest: Step[] = [preamble(logger, lifecycle, securityHeaders({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], styleSrc: ["'unsafe-inline'"] } } }))];
  if (config.metrics) {
    trackRouteTemplates(app);
    everyRequest.push(requestMetrics(metrics));
  }
  app.use(...everyRequest);

  if (config.metrics && config.metricsPort === undefined) app.get('/metrics', metricsHandler(metrics));
  const openApiJson = JSON.stringify(deps.openApi);
  app.get('/v1/openapi.json', (_req, res) => void res.type('application/json').send(openApiJson));
  app.use('/docs', apiReferenceRouter(deps.openApi));
  app.use('/console', consoleRouter());

  // The lane runs what Express would for its routes: the same first steps, the route's chain, the
  // same last error handler.
  const lane = new DirectLane(app.get('trust proxy fn') as TrustFunction);
  const lastResort = errorHandler(logger);
  const direct = (method: 'post', path: string, chain: readonly Step[]) =>
    lane.add(method, path, [...everyRequest, ...(config.metrics ? [routeTemplateStep(expressPath(path))] : []), ...chain, lastResort]);
  const mount = { authenticator: deps.authenticator, bodyLimitBytes: config.bodyLimitBytes, logger, direct };
  for (const manifest of deps.routes) mountManifest(app, manifest, deps.routeDeps, mount);

  app.use(notFoundHandler);
  app.use(lastResort);
  return {
    app,
    listener: (req, res) => {
      if (!lane.handle(req, res)) app(req, res);
    },
  };
}
