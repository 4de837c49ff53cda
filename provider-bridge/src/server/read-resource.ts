/** ReadResource: refresh; null when the agent is gone; private bytes echoed (or core wipes them). */
import { decodeDynamicValue, encodeDynamicValue } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { impliedType } from '../schema/types';
import { asBuffer, findResource, notConfigured, unknownType, type Received, type ServerContext } from './context';
import type { ReadResource_Request, ReadResource_ResponseInit } from './tfplugin6.gen';

export async function readResource(ctx: ServerContext, req: Received<ReadResource_Request>): Promise<ReadResource_ResponseInit> {
  const r = findResource(req.type_name);
  if (!r) return { diagnostics: toWire([unknownType('resource', req.type_name)]), private: req.private };
  const type = impliedType(r.schema.block);
  const current = decodeDynamicValue(type, req.current_state) as TfObject | null;
  if (current === null) return { new_state: encodeDynamicValue(type, null), diagnostics: [], private: req.private };
  if (!ctx.providerData) return { new_state: req.current_state, diagnostics: toWire([notConfigured()]), private: req.private };
  const res = await r.read(ctx.providerData, current, asBuffer(req.private ?? Buffer.alloc(0)));
  return {
    new_state: encodeDynamicValue(type, res.state),
    diagnostics: toWire(res.diagnostics),
    private: res.private ?? req.private,
  };
}
