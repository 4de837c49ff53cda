/** ReadDataSource: result must be non-null and wholly known. */
import { decodeDynamicValue, encodeDynamicValue } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { impliedType } from '../schema/types';
import { findDataSource, notConfigured, unknownType, type Received, type ServerContext } from './context';
import type { ReadDataSource_Request, ReadDataSource_ResponseInit } from './tfplugin6.gen';

export async function readDataSource(ctx: ServerContext, req: Received<ReadDataSource_Request>): Promise<ReadDataSource_ResponseInit> {
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
