/**
 * Generic PlanResourceChange logic (the framework's fwserver plan pipeline, reduced):
 *  1. planned = proposed new state (config values, prior values for unset computed attributes);
 *  2. defaults for attributes the configuration leaves null, and nested blocks planned by their own
 *     `plan` (which correlates configured objects with prior ones);
 *  3. if the resource is new or changes, computed attributes not set in config become unknown
 *     (otherwise Terraform reports "inconsistent result after apply" when the server fills them);
 *  4. attribute plan modifiers (use-state-for-unknown, requires-replace) in schema order.
 * A resource can then adjust the result in its own `modifyPlan`.
 */
import { UNKNOWN, valuesEqual, type TfObject, type TfValue } from '../codec/values';
import { attributeNames, impliedType, withEmptyBlocks, type SchemaDef } from '../schema/types';
import type { PathStep } from '../diag';

export interface PlanResult {
  planned: Record<string, TfValue>;
  requiresReplace: PathStep[][];
}

export function planAttributes(schema: SchemaDef, prior: TfObject | null, proposed: TfObject, config: TfObject): PlanResult {
  const attrs = schema.block.attributes;
  const names = attributeNames(schema.block);
  const planned: Record<string, TfValue> = { ...proposed };

  for (const name of names) {
    const a = attrs[name]!;
    if (a.default !== undefined && (config[name] ?? null) === null) planned[name] = a.default;
  }
  for (const [name, b] of Object.entries(schema.block.blocks ?? {})) {
    if (b.plan) planned[name] = b.plan(prior?.[name] ?? null, config[name] ?? null);
  }

  // A prior without a block's value (state from before the block existed) has no blocks.
  const changed = prior === null || !valuesEqual(impliedType(schema.block), planned, withEmptyBlocks(schema.block, prior));
  if (changed) {
    for (const name of names) {
      const a = attrs[name]!;
      if (a.computed && a.default === undefined && (config[name] ?? null) === null) planned[name] = UNKNOWN;
    }
  }

  const requiresReplace: PathStep[][] = [];
  for (const name of names) {
    const a = attrs[name]!;
    for (const m of a.planModifiers ?? []) {
      const res = m.modify({
        attribute: name,
        type: a.type,
        priorState: prior,
        config,
        configValue: config[name] ?? null,
        priorValue: prior?.[name] ?? null,
        plannedValue: planned[name] ?? null,
      });
      planned[name] = res.plannedValue;
      if (res.requiresReplace && !requiresReplace.some((p) => p[0] === name)) requiresReplace.push([name]);
    }
  }
  return { planned, requiresReplace };
}
