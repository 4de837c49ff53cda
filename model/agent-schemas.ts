/** zod schemas for the API, built from the model's rules (validation and OpenAPI from one source). */
import { z } from 'zod';
import { METADATA_RULE, metadataViolations, NAME_RULE, nameViolations } from './agent';
import { normalizeScopes, SCOPE_RULE, scopeCountViolations, SCOPES_RULE, scopeViolations } from './scope';
import { AGENT_STATUSES } from './statuses';
import { MAY_ACT_MAX, MAY_ACT_RULE } from './delegation';
import { textViolations } from './text';

const refineWith = (fn: (v: any) => string[]) => (v: any, ctx: z.RefinementCtx) => {
  for (const message of fn(v)) ctx.addIssue({ code: 'custom', message });
};

/** A free-text string field (reasons, purposes, descriptions, names): the model's text rule. */
export const Text = (max: number) => z.string().max(max).superRefine(refineWith((v: string) => textViolations(v)));

export const AgentName = z
  .string()
  .superRefine(refineWith(nameViolations))
  .meta({ description: `Human-readable name, unique among the organization's non-revoked agents: ${NAME_RULE}`, example: 'payment-processor' });

export const Scopes = z
  .array(z.string().superRefine(refineWith(scopeViolations)))
  .superRefine(refineWith(scopeCountViolations))
  .transform(normalizeScopes)
  .meta({ description: `Permitted operations, each ${SCOPE_RULE}; ${SCOPES_RULE}`, example: ['payments:read'] });

export const Metadata = z
  .record(z.string(), z.string())
  .superRefine(refineWith(metadataViolations))
  .meta({ description: `String key/value pairs: ${METADATA_RULE}`, example: { team: 'payments' } });

export const AgentStatusSchema = z.enum(AGENT_STATUSES);

/** `may_act`: agent ids (lower-cased, duplicates removed); whether each is an agent that may act is the service's check. */
export const MayAct = z
  .array(z.uuid())
  .max(MAY_ACT_MAX)
  .transform((ids) => [...new Set(ids.map((id) => id.toLowerCase()))])
  .meta({ description: MAY_ACT_RULE, example: ['0190a000-0000-7000-8000-000000000002'] });
