/**
 * The one codec for list cursors. A cursor is opaque to clients: base64url of `<kind>:<position>`,
 * where the kind names the list (and for audit events its order), so a cursor of one list is
 * refused by another instead of silently paging from the wrong place.
 */
import { ValidationError } from '../domain/errors';
import { isUuid } from '../crypto/ids';

export type CursorKind = 'a1' | 's1' | 'e1' | 'e1d';

export function encodeCursor(kind: CursorKind, position: string | number): string {
  return Buffer.from(`${kind}:${position}`).toString('base64url');
}

function invalid(kind: CursorKind): ValidationError {
  const hint = kind === 'e1' || kind === 'e1d' ? ` listed with order=${kind === 'e1' ? 'asc' : 'desc'}` : '';
  return new ValidationError('cursor is invalid', [{ path: 'cursor', message: `use the next_cursor value of a previous page${hint}` }]);
}

function position(kind: CursorKind, cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  return raw.startsWith(`${kind}:`) ? raw.slice(kind.length + 1) : '';
}

/** A cursor whose position is a row id (agents, sessions: keyset pagination by id). */
export function decodeIdCursor(kind: CursorKind, cursor: string): string {
  const id = position(kind, cursor);
  if (!isUuid(id)) throw invalid(kind);
  return id;
}

/** A cursor whose position is a sequence number (audit events). */
export function decodeSeqCursor(kind: CursorKind, cursor: string): number {
  const p = position(kind, cursor);
  const n = /^\d{1,16}$/.test(p) ? Number(p) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(kind);
  return n;
}
