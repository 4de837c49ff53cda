/** ApplyResourceChange: null planned → delete, null prior → create, otherwise update. */
import { decodeDynamicValue, encodeDynamicValue } from '../codec/msgpack';
import { isWhollyKnown, type TfObject } from '../codec/values';
import { error, toWire } from '../diag';
import { impliedType } from '../schema/types';
import type { StateResult } from '../resources/types';
import { findResource, notConfigured, unknownType, type Received, type ServerContext } from './context';
import type { ApplyResourceChange_Request, ApplyResourceChange_ResponseInit } from './tfplugin6.gen';

export async function applyResourceChange(
  ctx: ServerContext,
  req: Received<ApplyResourceChange_Request>,
): Promise<ApplyResourceChange_ResponseInit> {
  const r = findResource(req.type_name);
  if (!r) return { diagnostics: toWire([unknownType('resource', req.type_name)]) };
  const type = impliedType(r.schema.block);
  const prior = decodeDynamicValue(type, req.prior_state) as TfObject | null;
  const planned = decodeDynamicValue(type, req.planned_state) as TfObject | null;
  if (!ctx.providerData) return { new_state: req.prior_state, diagnostics: toWire([notConfigured()]) };
  const p = ctx.providerData;

  let res: StateResult;
  if (planned === null) res = prior === null ? { state: null, diagnostics: [] } : await r.delete(p, prior);
  else if (prior === null) res = await r.create(p, planned);
  else res = await r.update(p, prior, planned);

  if (res.state !== null && !isWhollyKnown(res.state)) {
    // A provider bug; say so clearly instead of letting core save nulls.
    res.diagnostics.push(error('Provider returned unknown values', `The ${r.typeName} result still has unknown values. Please report this bug.`));
  }
  return {
    new_state: encodeDynamicValue(type, res.state),
    private: res.private ?? req.planned_private ?? Buffer.alloc(0),
    diagnostics: toWire(res.diagnostics),
  };
}
