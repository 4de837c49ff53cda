/** zod schemas for the API, built from the model's rules (validation and OpenAPI from one source). */
import { z } from 'zod';
import { AGENT_STATUSES, metadataViolations, nameViolations, normalizeScopes, scopeViolations, SCOPES_MAX } from './agent';
import { textViolations } from './text';

const refineWith = (fn: (v: any) => string[]) => (v: any, ctx: z.RefinementCtx) => {
  for (const message of fn(v)) ctx.addIssue({ code: 'custom', message });
};

/** A free-text string field (reasons, purposes, descriptions, names): the model's text rule. */
export const Text = (max: number) => z.string().max(max).superRefine(refineWith((v: string) => textViolations(v)));

export const AgentName = z
  .string()
  .superRefine(refineWith(nameViolations))
  .meta({ description: 'Human-readable name, unique among the organization\'s non-revoked agents', example: 'payment-processor' });

export const Scopes = z
  .array(z.string().superRefine(refineWith(scopeViolations)))
  .superRefine(refineWith((s: string[]) => (new Set(s).size > SCOPES_MAX ? [`at most ${SCOPES_MAX} scopes are allowed`] : [])))
  .transform(normalizeScopes)
  .meta({ description: 'Permitted operations, `resource:action`', example: ['payments:read'] });

export const Metadata = z
  .record(z.string(), z.string())
  .superRefine(refineWith(metadataViolations))
  .meta({ description: 'String key/value pairs', example: { team: 'payments' } });

export const AgentStatusSchema = z.enum(AGENT_STATUSES);
