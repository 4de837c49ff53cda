/**
 * The scope grammar: what an agent, a session or a token may do, as `resource:action`. One
 * definition for the API's validation and coverage checks, the constructs' synth-time checks and
 * the provider's plan-time checks. Dependency-free (the browser SDK and the console import it).
 */
import { printableText } from './text';

export const SCOPE_PATTERN = /^[a-z0-9_.-]+(:([a-z0-9_.-]+|\*))?$/;
/** Longest scope: a name, not a payload (a wildcard would otherwise cover scopes of any length). */
export const SCOPE_MAX_LENGTH = 200;
export const SCOPES_MAX = 100;

/** The grammar in words (Markdown), for descriptions, help texts and the fixes diagnostics suggest. */
export const SCOPE_RULE =
  '`resource:action` in lowercase letters, digits, `_`, `-` and `.` (for example `payments:read`), a single segment (`read`), or `resource:*`; ' +
  `at most ${SCOPE_MAX_LENGTH} characters`;
/** How many scopes one agent or session may hold, in words. */
export const SCOPES_RULE = `at most ${SCOPES_MAX} scopes; duplicates are removed`;

/** The grammar and the length rule. */
export function isScope(scope: string): boolean {
  return scope.length <= SCOPE_MAX_LENGTH && SCOPE_PATTERN.test(scope);
}

export function scopeViolations(scope: string): string[] {
  if (scope.length > SCOPE_MAX_LENGTH) return [`scope "${printableText(scope.slice(0, 40))}…" is longer than ${SCOPE_MAX_LENGTH} characters`];
  return SCOPE_PATTERN.test(scope)
    ? []
    : [`scope "${printableText(scope)}" must look like "resource:action" (lowercase letters, digits, "_", "-", "."; "*" allowed as the action)`];
}

export function scopesViolations(scopes: readonly string[]): string[] {
  const out = scopes.flatMap(scopeViolations);
  out.push(...scopeCountViolations(scopes));
  return out;
}

/** The count rule alone (duplicates count once). */
export function scopeCountViolations(scopes: readonly string[]): string[] {
  return new Set(scopes).size > SCOPES_MAX ? [`at most ${SCOPES_MAX} scopes are allowed`] : [];
}

/** Removes duplicate scopes, keeping first-seen order. */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)];
}

/** A wildcard scope grants every action on a resource (`payments:*`). */
export function isWildcardScope(scope: string): boolean {
  return scope.endsWith(':*') || scope === '*';
}

/** True when `granted` (an agent's or session's scopes) covers `requested`. */
export function scopeCovers(granted: readonly string[], requested: string): boolean {
  if (granted.includes(requested)) return true;
  const resource = requested.split(':')[0];
  return granted.includes(`${resource}:*`);
}

/**
 * What two scope lists both grant, as scopes: each of `held` that `limit` covers, then each of
 * `limit` that a wildcard of `held` covers (`payments:*` limited to `payments:read` is
 * `payments:read`). `held` comes back unchanged when `limit` covers all of it.
 */
export function intersectScopes(held: readonly string[], limit: readonly string[]): string[] {
  const out = held.filter((s) => scopeCovers(limit, s));
  for (const s of limit) if (!scopeCovers(out, s) && scopeCovers(held, s)) out.push(s);
  return out;
}
