/**
 * What the database's error codes mean to the layers above. Only db/ reads SQLSTATE codes;
 * services see results (`{ inserted: false }`) or these named predicates.
 */
import { SPECULATION_REFUSED } from '../../migrations/20261205000000_speculative_appends';

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

/**
 * The database refused a statement because of a value in it (SQLSTATE class 22, data exception,
 * such as U+0000 in text; class 23, integrity constraint): running the same work without that value
 * can succeed. A lost connection or an overloaded server is not one of these.
 */
export function isValueRefusal(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * The server answered the statement with an error (a SQLSTATE), so a statement run on its own
 * (auto-commit) is known to have rolled back; or the pool never handed out a connection, so it never
 * ran. Anything else (a connection lost mid-statement) leaves unknown whether it committed.
 */
export function statementDidNotCommit(err: unknown): boolean {
  const code = sqlState(err);
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) return true;
  return err instanceof Error && err.name === 'KnexTimeoutError' && /acquiring a connection/.test(err.message);
}

/** A speculative statement found an assumption no longer true and wrote nothing (see the speculative_appends migration). */
export function isSpeculationRefused(err: unknown): boolean {
  return sqlState(err) === SPECULATION_REFUSED;
}
