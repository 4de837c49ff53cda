/** / (where to go from here), /healthz (liveness) and /readyz (readiness: the database answers and the replica is not draining). */
import type { Database } from '../db/connect';
import type { DatabaseProbe } from '../db/readiness';
import { Health, Home, Readiness } from '../schemas/responses';
import { auth, manifest } from './manifest';

export interface Lifecycle {
  /** True from the start of a shutdown: /readyz answers 503 and every response closes its connection. */
  readonly draining: boolean;
}

export interface HealthRouteDeps {
  database: Database;
  lifecycle: Lifecycle;
  /** Whether the database answers (at most one query per second, however often /readyz is called). */
  readiness: DatabaseProbe;
}

const probe = { reads: 'nothing', errorShape: 'api', auth: auth.none } as const;

export const healthRoutes = manifest<HealthRouteDeps>('health', (route) => [
  // Someone who opens the server's address in a browser (or curls it) finds the way in, not a 404.
  route({
    ...probe, method: 'get', path: '/', summary: 'Where to go: the console, the API reference, the OpenAPI document', responses: { 200: Home },
    handle: async () => ({ body: { service: 'certusordo', console: '/console', api_reference: '/docs', openapi: '/v1/openapi.json', health: '/healthz' } }),
  }),
  route({
    ...probe, method: 'get', path: '/healthz', summary: 'Liveness', responses: { 200: Health },
    handle: async () => ({ body: { status: 'ok' } }),
  }),
  route({
    ...probe, method: 'get', path: '/readyz', summary: 'Readiness (database reachable, not draining)', responses: { 200: Readiness, 503: Readiness },
    handle: async (_ctx, { database, lifecycle, readiness }) => {
      if (lifecycle.draining) return { status: 503, body: { status: 'draining', database: database.backend } };
      if (await readiness.ready()) return { body: { status: 'ready', database: database.backend } };
      return { status: 503, body: { status: 'unavailable', database: database.backend } };
    },
  }),
]);
