/**
 * Attribute plan modifiers in the style of terraform-plugin-framework: tiny objects with a
 * description (which feeds the docs) and early-return guards. They run in order after the
 * planner has applied defaults and marked changed computed values unknown.
 */
import { isUnknown, valuesEqual, type TfObject, type TfValue } from '../codec/values';
import type { TfType } from '../schema/types';

export interface PlanModifierRequest {
  readonly attribute: string;
  readonly type: TfType;
  /** Null when the resource is being created. */
  readonly priorState: TfObject | null;
  readonly config: TfObject;
  readonly configValue: TfValue;
  readonly priorValue: TfValue;
  readonly plannedValue: TfValue;
}

export interface PlanModifierResponse {
  plannedValue: TfValue;
  requiresReplace?: boolean;
}

export interface PlanModifier {
  /** Markdown sentence for the docs. */
  readonly description: string;
  modify(req: PlanModifierRequest): PlanModifierResponse;
}

/**
 * Keeps the prior value when the planner would show "(known after apply)" for a value that
 * cannot change in place (ids, timestamps, the one-time secret), so plans stay quiet.
 */
export function useStateForUnknown(): PlanModifier {
  return {
    description: 'Keeps its value across updates.',
    modify(req) {
      if (req.priorState === null) return { plannedValue: req.plannedValue }; // create
      if (!isUnknown(req.plannedValue)) return { plannedValue: req.plannedValue };
      if (isUnknown(req.configValue)) return { plannedValue: req.plannedValue };
      return { plannedValue: req.priorValue };
    },
  };
}

/** Replaces the resource when `when` holds and the planned value differs from the prior one. */
export function requiresReplaceIf(description: string, when: (req: PlanModifierRequest) => boolean): PlanModifier {
  return {
    description,
    modify(req) {
      if (req.priorState === null) return { plannedValue: req.plannedValue }; // ignored on create anyway
      if (valuesEqual(req.type, req.plannedValue, req.priorValue)) return { plannedValue: req.plannedValue };
      return { plannedValue: req.plannedValue, requiresReplace: when(req) };
    },
  };
}

export function requiresReplace(): PlanModifier {
  return requiresReplaceIf('Changing this value replaces the resource.', () => true);
}
