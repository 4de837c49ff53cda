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
import { requestId } from './middleware/request-id';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { jsonBody } from './middleware/body';
import { authenticateApiKey, ApiKeyResolver } from './middleware/auth';
import { RateLimiter } from './middleware/rate-limit';
import { agentsRouter } from './routes/agents';
import { apiKeysRouter } from './routes/api-keys';
import { auditRouter } from './routes/audit';
import { consoleRouter } from './routes/console';
import { docsPage, openApiDocument } from './openapi';
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
}

function accessLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      // Path only: query strings and headers may carry credentials.
      logger.info({ request_id: req.id, method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - start) / 1e6 }, 'request');
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
  const limiter = new RateLimiter(config.rateLimitPerSecond);

  app.use(requestId);
  app.use(accessLog(logger));
  app.use(helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], styleSrc: ["'unsafe-inline'"] } } }));

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      await db.knex.raw('select 1');
      res.json({ status: 'ready', database: db.backend });
    } catch {
      res.status(503).json({ status: 'unavailable', database: db.backend });
    }
  });
  app.get('/v1/openapi.json', (_req, res) => void res.json(openApiDocument(config.publicUrl)));
  app.get('/docs', (_req, res) => void res.type('html').send(docsPage()));
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
