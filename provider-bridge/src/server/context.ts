/** State shared by the RPC handlers of one provider process. */
import { dataSources, ephemeralResources, resources } from '../provider';
import type { DataSourceDefinition, EphemeralResourceDefinition, ProviderData, ResourceDefinition } from '../resources/types';
import type { Logger } from '../log';
import { error, type Diagnostic } from '../diag';
import type { DynamicValueMsg } from '../codec/msgpack';
import type { DynamicValue } from './tfplugin6.gen';

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

/**
 * A request as a handler takes it: the generated message, except that a DynamicValue may be
 * anything the codec reads (msgpack if present, else json). Handlers hand DynamicValues to the
 * codec untouched, and callers that build requests by hand (test/provider/plan.test.ts) send
 * msgpack alone; what the gRPC server decodes always has both fields.
 */
export type Received<T> = { [K in keyof T]: T[K] extends DynamicValue | null ? DynamicValueMsg | null : T[K] };

/**
 * A Buffer view of protobuf bytes (no copy). protobufjs hands bytes over as Uint8Array, which in
 * node is a Buffer, but only a Buffer's toString decodes UTF-8 and resources take Buffers.
 */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export const unknownType = (kind: string, typeName: string): Diagnostic =>
  error(`Unknown ${kind} type`, `This provider has no ${kind} "${typeName}".`);

export const notConfigured = (): Diagnostic =>
  error('Provider not configured', 'ConfigureProvider did not succeed, so the provider has no control plane client. See the earlier provider diagnostics.');
