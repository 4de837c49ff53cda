/**
 * The rule every string field of CertusOrdo follows (names, scopes, metadata keys and values,
 * reasons, purposes, descriptions, query values, OAuth parameters): Unicode text without U+0000.
 * PostgreSQL text cannot hold U+0000, and an unpaired UTF-16 surrogate is not Unicode text: it
 * would be stored altered (as U+FFFD), so what is read back would differ from what was written.
 * Dependency-free, like the rest of model/ (the constructs check it at synth time).
 */

const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Violations of the text rule for one string (empty when valid); `field` names it in the messages. */
export function textViolations(value: string, field = 'value'): string[] {
  const out: string[] = [];
  if (NUL.test(value)) out.push(`${field} must not contain U+0000 (NUL)`);
  if (LONE_SURROGATE.test(value)) out.push(`${field} must not contain an unpaired UTF-16 surrogate (U+D800-U+DFFF): it is not Unicode text`);
  return out;
}

export function isValidText(value: string): boolean {
  return !NUL.test(value) && !LONE_SURROGATE.test(value);
}

/** The string with the characters the rule refuses shown as `\uXXXX`, for messages that quote it. */
export function printableText(value: string): string {
  return value.replace(/\u0000|[\uD800-\uDFFF]/g, (c, i: number) => {
    const code = c.charCodeAt(0);
    // A proper pair stays as it is.
    if (code >= 0xd800 && code <= 0xdbff && /[\uDC00-\uDFFF]/.test(value.charAt(i + 1))) return c;
    if (code >= 0xdc00 && code <= 0xdfff && /[\uD800-\uDBFF]/.test(value.charAt(i - 1))) return c;
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Deepest nesting of arrays and objects a JSON body may have (the top-level value is level 1). */
export const JSON_DEPTH_MAX = 32;
export const JSON_DEPTH_RULE = `arrays and objects nested at most ${JSON_DEPTH_MAX} levels deep`;

export interface TextViolation {
  /** Where, as the API reports it: keys and indexes joined with "." (`metadata.team`, `scopes.0`). */
  readonly path: string;
  readonly message: string;
  /** `depth`: the value is nested deeper than JSON_DEPTH_MAX (the walk stops there); `text`: a string breaks the text rule. */
  readonly rule: 'text' | 'depth';
}

/** One value still to visit: its key in its parent (null for the root) and its parent, so a path is built only when reported. */
interface Pending {
  readonly value: unknown;
  readonly key: string | null;
  readonly parent: Pending | null;
  readonly depth: number;
}

function pathOf(node: Pending, base: readonly string[]): string {
  const keys: string[] = [];
  for (let n: Pending | null = node; n && n.key !== null; n = n.parent) keys.push(n.key);
  const path = [...base, ...keys.reverse()];
  return path.length ? path.join('.') : 'body';
}

/**
 * Every string in a parsed JSON value (object keys included) checked against the rule, at most
 * `limit` violations, in document order. `base` prefixes the paths. Arrays and objects nested
 * deeper than JSON_DEPTH_MAX are one `depth` violation and end the walk. Iterative with an
 * explicit stack, and each value is visited once: the work is linear in the value's size, and no
 * shape of input can exhaust the call stack.
 */
export function jsonTextViolations(value: unknown, base: readonly string[] = [], limit = 10): TextViolation[] {
  const out: TextViolation[] = [];
  const stack: Pending[] = [{ value, key: null, parent: null, depth: 0 }];
  while (stack.length && out.length < limit) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === 'string') {
      if (!isValidText(v)) {
        const name = pathOf(node, base);
        for (const message of textViolations(v, name)) out.push({ path: name, message, rule: 'text' });
      }
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const depth = node.depth + 1;
    if (depth > JSON_DEPTH_MAX) {
      const name = pathOf(node, base);
      return [{ path: name, message: `${name} is nested deeper than ${JSON_DEPTH_MAX} levels (the limit: ${JSON_DEPTH_RULE})`, rule: 'depth' }];
    }
    // Children are pushed last-first, so they are popped in document order.
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], key: String(i), parent: node, depth });
      continue;
    }
    const entries = Object.entries(v);
    const keyed: Pending[] = [];
    for (const [k, item] of entries) {
      const key = isValidText(k) ? k : printableText(k);
      const child: Pending = { value: item, key, parent: node, depth };
      if (key !== k) {
        const name = pathOf(child, base);
        for (const message of textViolations(k, `the key of ${name}`)) out.push({ path: name, message, rule: 'text' });
      }
      keyed.push(child);
    }
    for (let i = keyed.length - 1; i >= 0; i--) stack.push(keyed[i]!);
  }
  return out.slice(0, limit);
}
