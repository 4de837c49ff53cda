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

export interface TextViolation {
  /** Where, as the API reports it: keys and indexes joined with "." (`metadata.team`, `scopes.0`). */
  readonly path: string;
  readonly message: string;
}

/**
 * Every string in a parsed JSON value (object keys included) checked against the rule, at most
 * `limit` violations. `base` prefixes the paths.
 */
export function jsonTextViolations(value: unknown, base: string[] = [], limit = 10): TextViolation[] {
  const out: TextViolation[] = [];
  const walk = (v: unknown, path: string[]): void => {
    if (out.length >= limit) return;
    if (typeof v === 'string') {
      if (!isValidText(v)) {
        const name = path.length ? path.join('.') : 'body';
        for (const message of textViolations(v, name)) out.push({ path: name, message });
      }
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...path, String(i)]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        const key = isValidText(k) ? k : printableText(k);
        if (key !== k) {
          const name = [...path, key].join('.');
          for (const message of textViolations(k, `the key of ${name}`)) out.push({ path: name, message });
        }
        walk(item, [...path, key]);
      }
    }
  };
  walk(value, base);
  return out.slice(0, limit);
}
