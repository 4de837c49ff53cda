/** ImportResourceState: a stub `{id, …null}`; core then calls ReadResource to fill it. */
import { encodeDynamicValue } from '../codec/msgpack';
import { error, toWire } from '../diag';
import { impliedType } from '../schema/types';
import { findResource, notConfigured, unknownType, type ServerContext } from './context';
import type { ImportResourceState_Request, ImportResourceState_ResponseInit } from './tfplugin6.gen';

export async function importResourceState(ctx: ServerContext, req: ImportResourceState_Request): Promise<ImportResourceState_ResponseInit> {
  const r = findResource(req.type_name);
  if (!r) return { diagnostics: toWire([unknownType('resource', req.type_name)]) };
  if (!req.id.trim()) {
    return { diagnostics: toWire([error('Missing import id', `Import ${r.typeName} with its agent id: terraform import ${r.typeName}.NAME <agent-id>`)]) };
  }
  if (!ctx.providerData) return { diagnostics: toWire([notConfigured()]) };
  const res = await r.importState(ctx.providerData, req.id);
  if (res.state === null) return { diagnostics: toWire(res.diagnostics) };
  return {
    imported_resources: [
      { type_name: r.typeName, state: encodeDynamicValue(impliedType(r.schema.block), res.state), private: res.private ?? Buffer.alloc(0) },
    ],
    diagnostics: toWire(res.diagnostics),
  };
}
