/** ValidateDataResourceConfig: offline checks of a data block. */
import { decodeDynamicValue, type DynamicValueMsg } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { impliedType } from '../schema/types';
import { findDataSource, unknownType } from './context';

export function validateDataResourceConfig(req: { type_name: string; config: DynamicValueMsg | null }): Record<string, unknown> {
  const d = findDataSource(req.type_name);
  if (!d) return { diagnostics: toWire([unknownType('data source', req.type_name)]) };
  const config = (decodeDynamicValue(impliedType(d.schema.block), req.config) ?? {}) as TfObject;
  return { diagnostics: toWire(d.validate(config)) };
}
