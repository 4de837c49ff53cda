/** ReadDataSource: result must be non-null and wholly known. */
import { decodeDynamicValue, encodeDynamicValue, type DynamicValueMsg } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { impliedType } from '../schema/types';
import { findDataSource, notConfigured, unknownType, type ServerContext } from './context';

export async function readDataSource(
  ctx: ServerContext,
  req: { type_name: string; config: DynamicValueMsg | null },
): Promise<Record<string, unknown>> {
  const d = findDataSource(req.type_name);
  if (!d) return { diagnostics: toWire([unknownType('data source', req.type_name)]) };
  const type = impliedType(d.schema.block);
  const config = (decodeDynamicValue(type, req.config) ?? {}) as TfObject;
  if (!ctx.providerData) return { diagnostics: toWire([notConfigured()]) };
  const res = await d.read(ctx.providerData, config);
  return res.state === null
    ? { diagnostics: toWire(res.diagnostics) }
    : { state: encodeDynamicValue(type, res.state), diagnostics: toWire(res.diagnostics) };
}
