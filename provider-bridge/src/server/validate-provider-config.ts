/** ValidateProviderConfig: offline checks of the provider block (values may be unknown). */
import { decodeDynamicValue, type DynamicValueMsg } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { providerSchema, validateProviderConfig as validate } from '../provider';
import { impliedType } from '../schema/types';

export function validateProviderConfig(req: { config: DynamicValueMsg | null }, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const config = (decodeDynamicValue(impliedType(providerSchema.block), req.config) ?? {}) as TfObject;
  return { diagnostics: toWire(validate(config, env)) };
}
