/**
 * Agent authentication (OAuth token endpoint, JWKS, introspection, sessions) plugs in here.
 * Until it lands the module contributes no routes.
 */
import type { Router } from 'express';
import type { Config } from './config';
import type { Database } from './db/connect';
import type { Logger } from './logger';
import type { Services } from './services';
import type { MasterKey } from './crypto/master-key';

export interface AuthModuleDeps {
  config: Config;
  db: Database;
  logger: Logger;
  services: Services;
  keys: MasterKey;
}

export interface AuthModule {
  routers: Router[];
  close(): Promise<void>;
}

export async function createAuthModule(_deps: AuthModuleDeps): Promise<AuthModule> {
  return { routers: [], close: async () => undefined };
}
