/** ConfigureProvider: builds the REST client; failures name the provider attribute to fix. */
import { decodeDynamicValue, type DynamicValueMsg } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { configureProvider as configure, providerSchema } from '../provider';
import { impliedType } from '../schema/types';
import type { ServerContext } from './context';

export async function configureProvider(
  ctx: ServerContext,
  req: { terraform_version: string; config: DynamicValueMsg | null },
): Promise<Record<string, unknown>> {
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
