/**
 * A grant type of the token endpoint: its `grant_type` value, its parameters (for the API
 * description) and its own named steps, which run after the shared ones (no-store, body parsed,
 * resources taken, no repeated parameters). Each grant is a module beside its siblings,
 * registered in grants/index.ts.
 */
import type { RequestHandler } from 'express';
import type { z } from 'zod';
import type { TokenEndpointDeps } from '../token-steps';

export interface Grant {
  readonly grantType: string;
  readonly parameters: z.ZodType;
  steps(deps: TokenEndpointDeps): RequestHandler[];
}
