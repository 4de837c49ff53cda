/**
 * Diagnostics are values: handlers collect them and return them in the response; nothing
 * throws across gRPC. `diagFromError` is the single place that turns client errors into
 * user-facing text.
 */
import {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  CertusOrdoError,
  ConfigurationError,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ResponseTooLargeError,
} from '../../sdk/src/core/errors';
import { isInsecureEndpointError } from './client/endpoint';
import { CodecError } from './codec/msgpack';

/** Attribute path steps: a string names an attribute; {key} is a map key, {index} a list index. */
export type PathStep = string | { key: string } | { index: number };

export interface Diagnostic {
  severity: 'ERROR' | 'WARNING';
  summary: string;
  detail: string;
  path?: readonly PathStep[];
}

export const error = (summary: string, detail: string, path?: readonly PathStep[]): Diagnostic => ({
  severity: 'ERROR',
  summary,
  detail,
  path,
});

export const warning = (summary: string, detail: string, path?: readonly PathStep[]): Diagnostic => ({
  severity: 'WARNING',
  summary,
  detail,
  path,
});

export const hasErrors = (diags: readonly Diagnostic[]): boolean => diags.some((d) => d.severity === 'ERROR');

/** Wire form for server/protos.ts (enums as strings, oneof steps as single-key objects). */
export interface DiagnosticMsg {
  severity: 'ERROR' | 'WARNING';
  summary: string;
  detail: string;
  attribute?: { steps: Array<{ attribute_name: string } | { element_key_string: string } | { element_key_int: string }> };
}

export function pathToMsg(path: readonly PathStep[]): NonNullable<DiagnosticMsg['attribute']> {
  return {
    steps: path.map((s) =>
      typeof s === 'string' ? { attribute_name: s } : 'key' in s ? { element_key_string: s.key } : { element_key_int: String(s.index) },
    ),
  };
}

export function toWire(diags: readonly Diagnostic[]): DiagnosticMsg[] {
  return diags.map((d) => ({
    severity: d.severity,
    summary: d.summary,
    detail: d.detail,
    ...(d.path && d.path.length ? { attribute: pathToMsg(d.path) } : {}),
  }));
}

const API_KEY_FIX =
  'Set `api_key` in the provider "certusordo" block (or the CERTUSORDO_API_KEY environment variable) to an active organization API key (it starts with `aa_`).';
const ENDPOINT_FIX =
  'Check `endpoint` in the provider "certusordo" block (or CERTUSORDO_ENDPOINT): it must be the base URL of a running CertusOrdo control plane, for example `https://certusordo.example.com`.';

/**
 * Maps any failure of a provider operation to one diagnostic. `action` completes the
 * sentence "Unable to <action>", e.g. "create agent \"billing\"".
 */
export function diagFromError(err: unknown, action: string): Diagnostic {
  // Provider-level failures (key, endpoint) carry no attribute path here: a path is relative
  // to the resource being handled. ConfigureProvider attaches provider paths itself.
  const rid = err instanceof CertusOrdoError && err.requestId ? ` (request id ${err.requestId})` : '';
  if (err instanceof AuthenticationError) {
    return error('Invalid CertusOrdo API key', `Unable to ${action}: the control plane rejected the API key${rid}. ${API_KEY_FIX}`);
  }
  if (err instanceof PermissionDeniedError) {
    return error(
      'CertusOrdo API key lacks permission',
      `Unable to ${action}: ${err.message}${rid}. Managing agents needs an API key with the \`admin\` role; reading needs \`reader\` or higher.`,
    );
  }
  // The stop signal is the provider's only cancellation: an abort is always Terraform's StopProvider.
  if (err instanceof APIUserAbortError) {
    return error('Operation cancelled', `Unable to ${action}: request cancelled because Terraform asked the provider to stop.`);
  }
  if (err instanceof APIConnectionError) {
    return error('Cannot reach the CertusOrdo control plane', `Unable to ${action}: ${err.message}. ${ENDPOINT_FIX}`);
  }
  if (isInsecureEndpointError(err)) {
    return error('Insecure endpoint', `Unable to ${action}: ${err.message}`);
  }
  if (err instanceof ConfigurationError) {
    return error('Invalid provider configuration', `Unable to ${action}: ${err.message}.`);
  }
  if (err instanceof ResponseTooLargeError) {
    return error(
      'Response from the control plane too large',
      `Unable to ${action}: ${err.message}. A CertusOrdo control plane never sends answers this large; ${ENDPOINT_FIX}`,
    );
  }
  if (err instanceof RateLimitError) {
    return error('Rate limited by the control plane', `Unable to ${action}: still rate limited after retries${rid}. Lower -parallelism or retry later.`);
  }
  if (err instanceof APIError) {
    const details = err.details ?? [];
    const first = details[0];
    const detailText = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
    const path = first?.path && /^[a-z_]+$/.test(first.path.split('.')[0]!) ? [first.path.split('.')[0]!] : undefined;
    const summary =
      err instanceof ConflictError ? 'Conflict in the control plane' : err instanceof NotFoundError ? 'Agent not found' : 'Control plane error';
    return error(summary, `Unable to ${action}: ${err.message}${detailText ? ` (${detailText})` : ''}${rid}.`, path);
  }
  if (err instanceof CodecError) {
    return error('Invalid value from Terraform', `Unable to ${action}: ${err.message}. This is a bug in the provider; please report it.`);
  }
  const message = err instanceof Error ? err.message : String(err);
  return error('Unexpected provider error', `Unable to ${action}: ${message}. This is a bug in the provider; please report it.`);
}

export { API_KEY_FIX, ENDPOINT_FIX };
