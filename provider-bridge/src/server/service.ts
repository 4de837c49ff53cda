/**
 * Binds every RPC module to grpc-js, typed by the generated messages (tfplugin6.gen.ts). Each
 * handler runs inside `unary`, which turns an unexpected exception into the RPC's failure reply
 * (an error diagnostic; StopProvider's `Error` text): nothing throws across gRPC.
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
import type { DiagnosticInit, plugin_GRPCController_Rpcs, plugin_GRPCStdio_Rpcs, Provider_Rpcs, StopProvider_ResponseInit } from './tfplugin6.gen';
import { planResourceChange } from './plan-resource-change';
import { readDataSource } from './read-data-source';
import { readResource } from './read-resource';
import { stopProvider } from './stop-provider';
import { upgradeResourceState } from './upgrade-resource-state';
import { validateDataResourceConfig } from './validate-data-resource-config';
import { validateProviderConfig } from './validate-provider-config';
import { validateResourceConfig } from './validate-resource-config';

export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

type ProviderRpc = keyof Provider_Rpcs;
type Request<M extends ProviderRpc> = Provider_Rpcs[M]['request'];
type Response<M extends ProviderRpc> = Provider_Rpcs[M]['responseInit'];

/** Every RPC of tfplugin6.Provider in the .proto must have a handler, typed by the generated messages. */
export type ProviderHandlers = { [M in ProviderRpc]: grpc.handleUnaryCall<Request<M>, Response<M>> };

/** The reply when a handler throws: its error as a diagnostic. */
const diagnosed = (diagnostics: DiagnosticInit[]) => ({ diagnostics });

/** StopProvider.Response has no diagnostics; its `Error` text is what Terraform reports. */
const stopFailed = (diagnostics: DiagnosticInit[]): StopProvider_ResponseInit => ({
  Error: diagnostics.map((d) => `${d.summary}: ${d.detail}`).join('; '),
});

const typeNameOf = (req: object): string | undefined => ('type_name' in req && typeof req.type_name === 'string' ? req.type_name : undefined);

function unary<M extends ProviderRpc>(
  ctx: ServerContext,
  rpc: M,
  fn: (req: Request<M>) => Promise<Response<M>> | Response<M>,
  failed: (diagnostics: DiagnosticInit[]) => Response<M>,
): grpc.handleUnaryCall<Request<M>, Response<M>> {
  return (call, callback) => {
    const started = Date.now();
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => {
          ctx.logger.log('trace', 'rpc done', { rpc, type_name: typeNameOf(call.request), ms: Date.now() - started });
          callback(null, res);
        },
        (err: unknown) => {
          ctx.logger.error('rpc failed', { rpc, error: err instanceof Error ? err.message : String(err) });
          callback(null, failed(toWire([diagFromError(err, rpc)])));
        },
      );
  };
}

export function providerHandlers(ctx: ServerContext): ProviderHandlers {
  return {
    GetMetadata: unary(ctx, 'GetMetadata', getMetadata, diagnosed),
    GetProviderSchema: unary(ctx, 'GetProviderSchema', getProviderSchema, diagnosed),
    GetResourceIdentitySchemas: unary(ctx, 'GetResourceIdentitySchemas', getResourceIdentitySchemas, diagnosed),
    GetFunctions: unary(ctx, 'GetFunctions', getFunctions, diagnosed),
    ValidateProviderConfig: unary(ctx, 'ValidateProviderConfig', (r) => validateProviderConfig(r, ctx.env), diagnosed),
    ValidateResourceConfig: unary(ctx, 'ValidateResourceConfig', validateResourceConfig, diagnosed),
    ValidateDataResourceConfig: unary(ctx, 'ValidateDataResourceConfig', validateDataResourceConfig, diagnosed),
    UpgradeResourceState: unary(ctx, 'UpgradeResourceState', upgradeResourceState, diagnosed),
    ConfigureProvider: unary(ctx, 'ConfigureProvider', (r) => configureProvider(ctx, r), diagnosed),
    ReadResource: unary(ctx, 'ReadResource', (r) => readResource(ctx, r), diagnosed),
    PlanResourceChange: unary(ctx, 'PlanResourceChange', planResourceChange, diagnosed),
    ApplyResourceChange: unary(ctx, 'ApplyResourceChange', (r) => applyResourceChange(ctx, r), diagnosed),
    ImportResourceState: unary(ctx, 'ImportResourceState', (r) => importResourceState(ctx, r), diagnosed),
    ReadDataSource: unary(ctx, 'ReadDataSource', (r) => readDataSource(ctx, r), diagnosed),
    ValidateEphemeralResourceConfig: unary(ctx, 'ValidateEphemeralResourceConfig', validateEphemeralResourceConfig, diagnosed),
    OpenEphemeralResource: unary(ctx, 'OpenEphemeralResource', (r) => openEphemeralResource(ctx, r), diagnosed),
    RenewEphemeralResource: unary(ctx, 'RenewEphemeralResource', renewEphemeralResource, diagnosed),
    CloseEphemeralResource: unary(ctx, 'CloseEphemeralResource', (r) => closeEphemeralResource(ctx, r), diagnosed),
    StopProvider: unary(ctx, 'StopProvider', () => stopProvider(ctx), stopFailed),
  };
}

type Rpc<M extends keyof plugin_GRPCController_Rpcs> = plugin_GRPCController_Rpcs[M];
type StdioRpc = plugin_GRPCStdio_Rpcs['StreamStdio'];

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
  const controller: { Shutdown: grpc.handleUnaryCall<Rpc<'Shutdown'>['request'], Rpc<'Shutdown'>['responseInit']> } = {
    Shutdown: (_call, cb) => {
      cb(null, {});
      setImmediate(opts.onShutdown);
    },
  };
  server.addService(services.controller, controller);
  const stdio: { StreamStdio: grpc.handleServerStreamingCall<StdioRpc['request'], StdioRpc['responseInit']> } = {
    // We do not forward stdio over gRPC; ending the stream at once makes go-plugin stop reading it.
    StreamStdio: (call) => call.end(),
  };
  server.addService(services.stdio, stdio);
  return server;
}
