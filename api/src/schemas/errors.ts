/** The two error bodies a route can answer with (a route's manifest says which). */
import { z } from 'zod';
import { DOMAIN_ERROR_CODES } from '../domain/errors';

/** The API's errors: `{error: {code, message, details}, request_id}` (middleware/error-handler.ts). */
export const ApiErrorBody = z
  .object({
    error: z.object({
      code: z.enum([...DOMAIN_ERROR_CODES, 'internal_error']),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })),
    }),
    request_id: z.string(),
  })
  .meta({ id: 'Error' });

/** RFC 6749 §5.2 error body of the OAuth endpoints (oauth/errors.ts). */
export const OAuthErrorBody = z
  .object({ error: z.string(), error_description: z.string().optional() })
  .meta({ id: 'OAuthError' });
