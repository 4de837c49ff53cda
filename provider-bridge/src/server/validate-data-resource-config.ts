/** ValidateDataResourceConfig: offline checks of a data block. */
import { decodeDynamicValue } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { impliedType } from '../schema/types';
import { findDataSource, unknownType, type Received } from './context';
import type { ValidateDataResourceConfig_Request, ValidateDataResourceConfig_ResponseInit } from './tfplugin6.gen';

export function validateDataResourceConfig(req: Received<ValidateDataResourceConfig_Request>): ValidateDataResourceConfig_ResponseInit {
  const d = findDataSource(req.type_name);
  if (!d) return { diagnostics: toWire([unknownType('data source', req.type_name)]) };
  const config = (decodeDynamicValue(impliedType(d.schema.block), req.config) ?? {}) as TfObject;
  return { diagnostics: toWire(d.validate(config)) };
}
