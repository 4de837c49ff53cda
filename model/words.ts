/** How the rule texts of model/ list choices, so every part words a list of values the same way. */

/** `a`, `b` or `c` (Markdown code spans), for descriptions rendered as Markdown. */
export function codeChoices(values: readonly string[]): string {
  return orList(values.map((v) => `\`${v}\``));
}

/** "a", "b" or "c", for messages that quote values. */
export function quotedChoices(values: readonly string[]): string {
  return orList(values.map((v) => `"${v}"`));
}

/** a, b or c */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
