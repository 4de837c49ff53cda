/**
 * Request parameters of the OAuth endpoints (RFC 6749 / 7523 / 7662 / 7009 / 8707), sent as
 * application/x-www-form-urlencoded (or JSON). Unknown parameters are ignored, as the RFCs ask;
 * a parameter may not be repeated (except `resource`).
 */
import { z } from 'zod';
import { GRANTS } from '../oauth/grants';

const required = (name: string) => z.string({ error: `The ${name} parameter is required` });

/** One body shape per registered grant (oauth/grants/). */
export const TokenRequest = z
  .union(GRANTS.map((g) => g.parameters) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]])
  .meta({ id: 'TokenRequest' });

export const IntrospectionRequest = z
  .looseObject({ token: required('token'), token_type_hint: z.string().optional() })
  .meta({ id: 'IntrospectionRequest' });

export const RevocationRequest = z
  .looseObject({ token: required('token'), token_type_hint: z.string().optional() })
  .meta({ id: 'RevocationRequest' });
