/**
 * What the database's error codes mean to the layers above. Only db/ reads SQLSTATE codes;
 * services see results (`{ inserted: false }`) or these named predicates.
 */

function sqlState(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** A unique constraint refused the row (23505). */
export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === '23505';
}

/** A deadlock or serialization failure: the whole transaction may simply be run again. */
export function isRetryableTransactionError(err: unknown): boolean {
  const code = sqlState(err);
  return code === '40P01' || code === '40001';
}
