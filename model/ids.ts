/**
 * The shape of the ids the control plane hands out (UUIDs). One rule for the API, which answers
 * 404 for anything else without a query, and for the CLI, which reads any other argument as an
 * agent's name. Dependency-free (the browser SDK and the console import model/).
 */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID, in any letter case (RFC 9562: the hex digits are case-insensitive). */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/**
 * The canonical (lowercase) spelling of a UUID a client sent, or null when it is none. The control
 * plane issues ids in lowercase and names each thing by that spelling alone (tokens, caches, seals,
 * audit events), so an id a client spelled otherwise must be brought to it before it is used.
 */
export function canonicalUuid(value: unknown): string | null {
  return typeof value === 'string' && isUuid(value) ? value.toLowerCase() : null;
}
