/**
 * The shape of the ids the control plane hands out (UUIDs). One rule for the API, which answers
 * 404 for anything else without a query, and for the CLI, which reads any other argument as an
 * agent's name. Dependency-free (the browser SDK and the console import model/).
 */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}
