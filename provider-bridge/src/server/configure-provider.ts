/** ConfigureProvider: builds the REST client; failures name the provider attribute to fix. */
import { decodeDynamicValue } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { configureProvider as configure, providerSchema } from '../provider';
import { impliedType } from '../schema/types';
import type { Received, ServerContext } from './context';
import type { ConfigureProvider_Request, ConfigureProvider_ResponseInit } from './tfplugin6.gen';

export async function configureProvider(ctx: ServerContext, req: Received<ConfigureProvider_Request>): Promise<ConfigureProvider_ResponseInit> {
  const config = (decodeDynamicValue(impliedType(providerSchema.block), req.config) ?? {}) as TfObject;
  const res = await configure(config, {
    env: ctx.env,
    stopSignal: ctx.stop.signal,
    logger: ctx.logger,
    terraformVersion: req.terraform_version,
  });
  ctx.providerData = res.data;
  return { diagnostics: toWire(res.diagnostics) };
}
