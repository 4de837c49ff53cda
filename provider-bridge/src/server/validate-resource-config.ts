/** ValidateResourceConfig: offline checks with the shared model rules. */
import { decodeDynamicValue } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { impliedType } from '../schema/types';
import { findResource, unknownType, type Received } from './context';
import type { ValidateResourceConfig_Request, ValidateResourceConfig_ResponseInit } from './tfplugin6.gen';

export function validateResourceConfig(req: Received<ValidateResourceConfig_Request>): ValidateResourceConfig_ResponseInit {
  const r = findResource(req.type_name);
  if (!r) return { diagnostics: toWire([unknownType('resource', req.type_name)]) };
  const config = (decodeDynamicValue(impliedType(r.schema.block), req.config) ?? {}) as TfObject;
  return { diagnostics: toWire(r.validate(config)) };
}
