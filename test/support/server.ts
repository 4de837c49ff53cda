/**
 * A real control plane for tests: the production `startServer` on a random port, over a fresh
 * database of the run's backend, with a bootstrap organization and admin key.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, Config } from '../../api/src/config';
import { createLogger } from '../../api/src/logger';
import { startServer, RunningServer } from '../../api/src/server';
import type { ApiKeyRole } from '../../api/src/db/tables';
import { systemContext } from '../../api/src/services/organizations';
import { createTestStore, TestStore } from './databases';
import type { Backend } from '../../api/src/db/connect';
import type { FederationOptions } from '../../api/src/federation/options';

export interface TestServer {
  readonly url: string;
  /** Admin key of the bootstrap organization. */
  readonly apiKey: string;
  readonly organizationId: string;
  readonly running: RunningServer;
  readonly store: TestStore;
  readonly config: Config;
  /** Another organization, with a key of the given role. */
  createOrganization(role?: ApiKeyRole): Promise<{ organizationId: string; apiKey: string }>;
  /** A key of `role` in the bootstrap organization. */
  createApiKey(role: ApiKeyRole): Promise<string>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  backend?: Backend;
  /** Reuse a store (e.g. to restart over the same data). */
  store?: TestStore;
  masterKey?: string;
  env?: Record<string, string>;
  /** Where the server's JSON log lines go (default: stdout, at TEST_LOG_LEVEL or silent). */
  logDestination?: { write(line: string): void };
  /** The clock of the token endpoint's failure budgets (freeze it to keep a budget spent). */
  clock?: () => number;
  /** The clock of the invalidation link's heartbeats (move it forward to stand in for elapsed time). */
  invalidationClock?: () => number;
  /** Issuer-key fetching for federated credentials (a test issuer's CA, the refresh clock). */
  federation?: FederationOptions;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const store = opts.store ?? (await createTestStore(opts.backend));
  const masterKey = opts.masterKey ?? randomBytes(32).toString('base64url');
  const config = loadConfig(
    { LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...opts.env },
    { PORT: 0, HOST: '127.0.0.1', DATABASE_URL: store.databaseUrl, CERTUSORDO_DATA_DIR: store.dataDir, CERTUSORDO_MASTER_KEY: masterKey },
  );
  const running = await startServer(config, { logger: createLogger(config.logLevel, opts.logDestination), clock: opts.clock, invalidationClock: opts.invalidationClock, federation: opts.federation });
  if (!running.bootstrap && !opts.store) throw new Error('expected a bootstrap organization on a fresh store');
  const orgs = running.services.organizations;
  const organizationId = running.bootstrap?.organizationId ?? '';
  return {
    url: running.url,
    apiKey: running.bootstrap?.apiKey ?? '',
    organizationId,
    running,
    store,
    config,
    async createOrganization(role: ApiKeyRole = 'admin') {
      const org = await orgs.createOrganization(`org-${randomBytes(3).toString('hex')}`);
      const key = await orgs.createApiKey(systemContext(org.id), { name: 'test', role });
      return { organizationId: org.id, apiKey: key.key };
    },
    async createApiKey(role: ApiKeyRole) {
      return (await orgs.createApiKey(systemContext(organizationId), { name: `test-${role}`, role })).key;
    },
    close: () => running.close(),
  };
}
