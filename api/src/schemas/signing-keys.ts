/** HTTP contract for signing-key rotation's request (the responses are in responses.ts). */
import { z } from 'zod';
import { REASON_MAX } from '../../../model/limits';

export const SigningKeyRotate = z.strictObject({ reason: z.string().max(REASON_MAX).optional() }).meta({ id: 'SigningKeyRotate' });
