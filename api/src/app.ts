/**
 * The Express application factory: middleware chain, routers and the error handler. It receives
 * its dependencies (no globals), so tests build as many independent apps as they need.
 */
import express, { Express, NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { Database } from './db/connect';
import type { Config } from './config';
import type { Logger } from './logger';
import './http/express-augment';
import { requestPath } from './http/request-path';
import { requestId } from './middleware/request-id';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { jsonBody } from './middleware/body';
import { authenticateApiKey, ApiKeyResolver } from './middleware/auth';
import type { RequestLimiter } from './middleware/rate-limit';
import type { Metrics } from './metrics/metrics';
import { metricsHandler, requestMetrics, trackRouteTemplates } from './metrics/http';
import { agentsRouter } from './routes/agents';
import { apiKeysRouter } from './routes/api-keys';
import { auditRouter } from './routes/audit';
import { consoleRouter } from './routes/console';
import { openApiDocument, operationRows } from './openapi';
import { apiReferenceRouter } from './routes/api-reference';
import type { Services } from './services';

export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
  services: Services;
  /** Routers mounted before the API-key-authenticated /v1 routes (OAuth, sessions, well-known). */
  extraRouters?: express.Router[];
  /** Resolves API keys; defaults to the organization service (one database read per request). */
  apiKeys?: ApiKeyResolver;
  /** The process's one per-caller request limiter (the auth module's routes share it). */
  limiter: RequestLimiter;
  metrics: Metrics;
  /** Shutdown state: while draining, /readyz answers 503 and every response closes its connection. */
  lifecycle?: Lifecycle;
}

export interface Lifecycle {
  readonly draining: boolean;
}

function accessLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      // Path only: query strings and headers may carry credentials.
      logger.info({ request_id: req.id, method: req.method, path: requestPath(req), status: res.statusCode, ms: Number(process.hrtime.bigint() - start) / 1e6 }, 'request');
    });
    next();
  };
}

export function createApp(deps: AppDeps): Express {
  const { config, db, logger, services } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // req.ip (per-address limits, audit client_ip) is the socket address unless proxies are configured.
  app.set('trust proxy', typeof config.trustProxy === 'object' ? [...config.trustProxy] : config.trustProxy);
  const { limiter, metrics } = deps;
  const lifecycle: Lifecycle = deps.lifecycle ?? { draining: false };

  app.use(requestId);
  app.use(accessLog(logger));
  if (config.metrics) {
    trackRouteTemplates(app);
    app.use(requestMetrics(metrics));
  }
  app.use((_req, res, next) => {
    // A load balancer reuses kept-alive connections: close each one after its response while
    // draining, so none is left open (and then cut) when the listener closes.
    if (lifecycle.draining) res.setHeader('Connection', 'close');
    next();
  });
  app.use(helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], styleSrc: ["'unsafe-inline'"] } } }));

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    if (lifecycle.draining) return void res.status(503).json({ status: 'draining', database: db.backend });
    try {
      await db.knex.raw('select 1');
      res.json({ status: 'ready', database: db.backend });
    } catch {
      res.status(503).json({ status: 'unavailable', database: db.backend });
    }
  });
  if (config.metrics && config.metricsPort === undefined) app.get('/metrics', metricsHandler(metrics));
  app.get('/v1/openapi.json', (_req, res) => void res.json(openApiDocument(config.publicUrl)));
  app.use('/docs', apiReferenceRouter(operationRows()));
  app.use('/console', consoleRouter());

  for (const router of deps.extraRouters ?? []) app.use(router);

  const v1 = express.Router();
  v1.use(jsonBody(config.bodyLimitBytes));
  v1.use(authenticateApiKey(deps.apiKeys ?? services.organizations, limiter));
  v1.use(agentsRouter(services.agents));
  v1.use(apiKeysRouter(services.organizations));
  v1.use(auditRouter(db.knex, services.audit));
  app.use('/v1', v1);

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
