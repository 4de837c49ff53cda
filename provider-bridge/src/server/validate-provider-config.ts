/** ValidateProviderConfig: offline checks of the provider block (values may be unknown). */
import { decodeDynamicValue } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { providerSchema, validateProviderConfig as validate } from '../provider';
import { impliedType } from '../schema/types';
import type { Received } from './context';
import type { ValidateProviderConfig_Request, ValidateProviderConfig_ResponseInit } from './tfplugin6.gen';

export function validateProviderConfig(req: Received<ValidateProviderConfig_Request>, env: NodeJS.ProcessEnv = process.env): ValidateProviderConfig_ResponseInit {
  const config = (decodeDynamicValue(impliedType(providerSchema.block), req.config) ?? {}) as TfObject;
  return { diagnostics: toWire(validate(config, env)) };
}
