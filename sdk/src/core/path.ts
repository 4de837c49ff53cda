import { ValidationError } from './errors';

/**
 * Tagged template that percent-encodes every interpolated value as one path segment, so an id can
 * never change the route (`path\`/v1/agents/${id}\``: `"../api-keys"` stays inside the segment).
 * "", "." and ".." are refused: URL parsers remove dot segments even when percent-encoded, and an
 * empty segment would name the collection instead of one of its members.
 */
export function path(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    const s = String(value);
    if (s === '' || s === '.' || s === '..') {
      throw new ValidationError(`invalid path parameter ${JSON.stringify(s)}`, {
        code: 'invalid_path_parameter',
        details: [{ path: 'id', message: 'must not be empty, "." or ".."' }],
      });
    }
    out += encodeURIComponent(s) + (strings[i + 1] ?? '');
  });
  return out;
}
