/** State shared by the RPC handlers of one provider process. */
import { dataSources, ephemeralResources, resources } from '../provider';
import type { DataSourceDefinition, EphemeralResourceDefinition, ProviderData, ResourceDefinition } from '../resources/types';
import type { Logger } from '../log';
import { error, type Diagnostic } from '../diag';

export interface ServerContext {
  logger: Logger;
  /** Set by ConfigureProvider; Terraform always configures before CRUD calls. */
  providerData: ProviderData | null;
  /** Aborted by StopProvider: cancels in-flight REST calls. */
  readonly stop: AbortController;
  readonly env: NodeJS.ProcessEnv;
}

export function createContext(logger: Logger, env: NodeJS.ProcessEnv = process.env): ServerContext {
  return { logger, providerData: null, stop: new AbortController(), env };
}

export function findResource(typeName: string): ResourceDefinition | undefined {
  return resources.find((r) => r.typeName === typeName);
}

export function findDataSource(typeName: string): DataSourceDefinition | undefined {
  return dataSources.find((d) => d.typeName === typeName);
}

export function findEphemeralResource(typeName: string): EphemeralResourceDefinition | undefined {
  return ephemeralResources.find((e) => e.typeName === typeName);
}

export const unknownType = (kind: string, typeName: string): Diagnostic =>
  error(`Unknown ${kind} type`, `This provider has no ${kind} "${typeName}".`);

export const notConfigured = (): Diagnostic =>
  error('Provider not configured', 'ConfigureProvider did not succeed, so the provider has no control plane client. See the earlier provider diagnostics.');
