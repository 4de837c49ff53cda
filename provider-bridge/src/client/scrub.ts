/**
 * Text that came from the network (an error message in a failed response, a request id header)
 * is shown to users in diagnostics and logs, which travel further than the key does (CI logs,
 * support tickets). A misconfigured proxy or server can echo the request's Authorization header
 * back, so such text is scrubbed of the client's own credentials and of anything shaped like a
 * credential before it leaves the client.
 */
const AUTH_SCHEME = /\b(Bearer|Basic|Token)(\s+|%20|\+)[A-Za-z0-9._~+/=%-]+/gi;
/** CertusOrdo API keys (`aa_…`) and agent secrets (`cos_…`). */
const KNOWN_SHAPES = /\b(aa|cos)_[A-Za-z0-9_-]{20,}/g;
/** Longest message kept from a response: enough for any real API error, not a page of echo. */
const MAX_TEXT = 500;

export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s), Buffer.from(s).toString('base64')])) out = out.split(form).join('[redacted]');
  }
  out = out.replace(AUTH_SCHEME, '$1 [redacted]').replace(KNOWN_SHAPES, '[redacted]');
  return out.length > MAX_TEXT ? `${out.slice(0, MAX_TEXT)}… (truncated)` : out;
}
