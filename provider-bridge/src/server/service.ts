/**
 * Binds every RPC module to grpc-js. Each handler runs inside `guard`,
 * which turns an unexpected exception into an error diagnostic: nothing throws across gRPC.
 */
import * as grpc from '@grpc/grpc-js';
import { diagFromError, toWire } from '../diag';
import type { ServerContext } from './context';
import { applyResourceChange } from './apply-resource-change';
import { configureProvider } from './configure-provider';
import { closeEphemeralResource, openEphemeralResource, renewEphemeralResource, validateEphemeralResourceConfig } from './ephemeral-resource';
import { getProviderSchema } from './get-provider-schema';
import { getFunctions, getMetadata, getResourceIdentitySchemas } from './metadata';
import { importResourceState } from './import-resource-state';
import { loadServices } from './protos';
import { planResourceChange } from './plan-resource-change';
import { readDataSource } from './read-data-source';
import { readResource } from './read-resource';
import { stopProvider } from './stop-provider';
import { upgradeResourceState } from './upgrade-resource-state';
import { validateDataResourceConfig } from './validate-data-resource-config';
import { validateProviderConfig } from './validate-provider-config';
import { validateResourceConfig } from './validate-resource-config';

export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

type Handler = (req: any) => Promise<Record<string, unknown>> | Record<string, unknown>;

function unary(ctx: ServerContext, rpc: string, fn: Handler, diagField = 'diagnostics'): grpc.handleUnaryCall<any, any> {
  return (call, callback) => {
    const started = Date.now();
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => {
          ctx.logger.log('trace', 'rpc done', { rpc, type_name: call.request?.type_name, ms: Date.now() - started });
          callback(null, res);
        },
        (err: unknown) => {
          ctx.logger.error('rpc failed', { rpc, error: err instanceof Error ? err.message : String(err) });
          callback(null, { [diagField]: toWire([diagFromError(err, rpc)]) });
        },
      );
  };
}

export function providerHandlers(ctx: ServerContext): grpc.UntypedServiceImplementation {
  return {
    GetMetadata: unary(ctx, 'GetMetadata', getMetadata),
    GetProviderSchema: unary(ctx, 'GetProviderSchema', getProviderSchema),
    GetResourceIdentitySchemas: unary(ctx, 'GetResourceIdentitySchemas', getResourceIdentitySchemas),
    GetFunctions: unary(ctx, 'GetFunctions', getFunctions),
    ValidateProviderConfig: unary(ctx, 'ValidateProviderConfig', (r) => validateProviderConfig(r, ctx.env)),
    ValidateResourceConfig: unary(ctx, 'ValidateResourceConfig', validateResourceConfig),
    ValidateDataResourceConfig: unary(ctx, 'ValidateDataResourceConfig', validateDataResourceConfig),
    UpgradeResourceState: unary(ctx, 'UpgradeResourceState', upgradeResourceState),
    ConfigureProvider: unary(ctx, 'ConfigureProvider', (r) => configureProvider(ctx, r)),
    ReadResource: unary(ctx, 'ReadResource', (r) => readResource(ctx, r)),
    PlanResourceChange: unary(ctx, 'PlanResourceChange', planResourceChange),
    ApplyResourceChange: unary(ctx, 'ApplyResourceChange', (r) => applyResourceChange(ctx, r)),
    ImportResourceState: unary(ctx, 'ImportResourceState', (r) => importResourceState(ctx, r)),
    ReadDataSource: unary(ctx, 'ReadDataSource', (r) => readDataSource(ctx, r)),
    ValidateEphemeralResourceConfig: unary(ctx, 'ValidateEphemeralResourceConfig', validateEphemeralResourceConfig),
    OpenEphemeralResource: unary(ctx, 'OpenEphemeralResource', (r) => openEphemeralResource(ctx, r)),
    RenewEphemeralResource: unary(ctx, 'RenewEphemeralResource', renewEphemeralResource),
    CloseEphemeralResource: unary(ctx, 'CloseEphemeralResource', (r) => closeEphemeralResource(ctx, r)),
    StopProvider: unary(ctx, 'StopProvider', () => stopProvider(ctx)),
  };
}

export interface ServeOptions {
  ctx: ServerContext;
  credentials: grpc.ServerCredentials;
  address: string;
  /** Called when Terraform sends plugin.GRPCController/Shutdown, after the reply is sent. */
  onShutdown: () => void;
}

export function createServer(opts: ServeOptions): grpc.Server {
  const services = loadServices();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  server.addService(services.provider, providerHandlers(opts.ctx));
  server.addService(services.controller, {
    Shutdown: (_call: unknown, cb: grpc.sendUnaryData<object>) => {
      cb(null, {});
      setImmediate(opts.onShutdown);
    },
  });
  server.addService(services.stdio, {
    // We do not forward stdio over gRPC; ending the stream at once makes go-plugin stop reading it.
    StreamStdio: (call: grpc.ServerWritableStream<object, object>) => call.end(),
  });
  return server;
}
