/**
 * PlanResourceChange: the generic planner plus the resource's modifyPlan. Destroys are planned
 * by core (we do not claim plan_destroy), but a null proposal is still answered with null.
 */
import { decodeDynamicValue, encodeDynamicValue } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { pathToMsg, toWire } from '../diag';
import { planAttributes } from '../plan/planner';
import { impliedType } from '../schema/types';
import { findResource, unknownType, type Received } from './context';
import type { PlanResourceChange_Request, PlanResourceChange_ResponseInit } from './tfplugin6.gen';

export function planResourceChange(req: Received<PlanResourceChange_Request>): PlanResourceChange_ResponseInit {
  const r = findResource(req.type_name);
  if (!r) return { diagnostics: toWire([unknownType('resource', req.type_name)]) };
  const type = impliedType(r.schema.block);
  const prior = decodeDynamicValue(type, req.prior_state) as TfObject | null;
  const proposed = decodeDynamicValue(type, req.proposed_new_state) as TfObject | null;
  const config = (decodeDynamicValue(type, req.config) ?? {}) as TfObject;
  if (proposed === null) {
    return { planned_state: encodeDynamicValue(type, null), planned_private: req.prior_private, diagnostics: [] };
  }
  const base = planAttributes(r.schema, prior, proposed, config);
  const res = r.modifyPlan({ prior, proposed, config }, { ...base, diagnostics: [] });
  return {
    planned_state: encodeDynamicValue(type, res.planned),
    // requires_replace is meaningless on create (and core ignores it there).
    requires_replace: prior === null ? [] : res.requiresReplace.map(pathToMsg),
    planned_private: req.prior_private,
    diagnostics: toWire(res.diagnostics),
  };
}
