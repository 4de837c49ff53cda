/**
 * Tagged template that percent-encodes every interpolated value as one path segment, so an id can
 * never change the route (`path\`/v1/agents/${id}\``: `"../api-keys"` stays inside the segment).
 */
export function path(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    const s = String(value);
    // "." and ".." are path-normalised by URL parsers even when the rest is encoded.
    const segment = s === '.' || s === '..' ? s.replace(/\./g, '%2E') : encodeURIComponent(s);
    out += segment + (strings[i + 1] ?? '');
  });
  return out;
}
