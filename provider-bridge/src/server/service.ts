/**
 * Binds every RPC module to the gRPC server (grpc-server.ts), typed by the generated messages
 * (tfplugin6.gen.ts). Each handler runs inside `unary`, which turns an unexpected exception into
 * the RPC's failure reply (an error diagnostic; StopProvider's `Error` text): nothing throws
 * across gRPC.
 */
import { diagFromError, toWire } from '../diag';
import type { ServerContext } from './context';
import { applyResourceChange } from './apply-resource-change';
import { configureProvider } from './configure-provider';
import { closeEphemeralResource, openEphemeralResource, renewEphemeralResource, validateEphemeralResourceConfig } from './ephemeral-resource';
import { getProviderSchema } from './get-provider-schema';
import { getFunctions, getMetadata, getResourceIdentitySchemas } from './metadata';
import { importResourceState } from './import-resource-state';
import { EMPTY_STREAM, GrpcServer, type TlsOptions } from './grpc-server';
import { loadServices } from './protos';
import type { DiagnosticInit, plugin_GRPCController_Rpcs, Provider_Rpcs, StopProvider_ResponseInit } from './tfplugin6.gen';
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
export type ProviderHandlers = { [M in ProviderRpc]: (request: Request<M>) => Promise<Response<M>> };

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
): (request: Request<M>) => Promise<Response<M>> {
  return (request) => {
    const started = Date.now();
    return Promise.resolve()
      .then(() => fn(request))
      .then(
        (res) => {
          ctx.logger.log('trace', 'rpc done', { rpc, type_name: typeNameOf(request), ms: Date.now() - started });
          return res;
        },
        (err: unknown) => {
          ctx.logger.error('rpc failed', { rpc, error: err instanceof Error ? err.message : String(err) });
          return failed(toWire([diagFromError(err, rpc)]));
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

export interface ServeOptions {
  ctx: ServerContext;
  /** AutoMTLS material; null serves plaintext. */
  tls: TlsOptions | null;
  /** Called when Terraform sends plugin.GRPCController/Shutdown, after the reply is sent. */
  onShutdown: () => void;
}

export function createServer(opts: ServeOptions): GrpcServer {
  const services = loadServices();
  const server = new GrpcServer({ tls: opts.tls, maxMessageBytes: MAX_MESSAGE_BYTES });
  server.addService(services.provider, providerHandlers(opts.ctx));
  const shutdown = async (): Promise<Rpc<'Shutdown'>['responseInit']> => {
    setImmediate(opts.onShutdown);
    return {};
  };
  server.addService(services.controller, { Shutdown: shutdown });
  // We do not forward stdio over gRPC; ending the stream at once makes go-plugin stop reading it.
  server.addService(services.stdio, { StreamStdio: EMPTY_STREAM });
  return server;
}
