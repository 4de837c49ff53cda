/**
 * Federated credentials as both certusordo_agent's `federated_credential` blocks and the
 * certusordo_agent_federated_credential resource see them: the shared attributes, the offline
 * checks (model/federation.ts rules), and the conversions between the API's credential and a
 * Terraform object.
 *
 * `claims_json` and `jwks` are JSON text: the API's claims are arbitrary JSON values (a Kubernetes
 * token's `kubernetes.io` claim is an object), which a map(string) could not say. They are compared
 * as JSON values, never as text, so `jsonencode` output, a heredoc and the server's own rendering
 * of the same value never differ in a plan.
 */
import { isUnknown, type TfObject, type TfValue } from '../codec/values';
import type { WireFederatedCredential, WireFederatedCredentialCreate, WireJwks } from '../../../sdk/src/core/wire';
import {
  canonicalJson,
  claimsViolations,
  FEDERATED_AUDIENCE_RULE,
  FEDERATED_CLAIMS_RULE,
  FEDERATED_ISSUER_RULE,
  FEDERATED_JWKS_KEYS_MAX,
  FEDERATED_JWKS_RULE,
  FEDERATED_SUBJECT_RULE,
  issuerSyntax,
  jsonEqual,
  privateJwkMembers,
  subjectViolations,
} from '../../../model/federation';
import { error, type Diagnostic, type PathStep } from '../diag';
import { str, type AttributeSchema } from '../schema/types';
import { capitalize } from './agent-model';

/** The fields a credential is made of; none can change in place (the API has no update). */
export type CredentialFieldName = 'issuer' | 'subject' | 'audience' | 'claims_json' | 'jwks';

export function credentialFieldSchemas(change: string): Record<CredentialFieldName, AttributeSchema> {
  return {
    issuer: { type: str, required: true, description: `Issuer of the workload's platform token: ${FEDERATED_ISSUER_RULE}. ${change}` },
    subject: { type: str, required: true, description: `The workload: ${FEDERATED_SUBJECT_RULE}. ${change}` },
    audience: {
      type: str,
      optional: true,
      computed: true,
      description: `${capitalize(FEDERATED_AUDIENCE_RULE)}. Unset: the default, known after apply. ${change}`,
    },
    claims_json: {
      type: str,
      optional: true,
      description: `JSON object (write it with \`jsonencode\`) of ${FEDERATED_CLAIMS_RULE}. Compared as JSON, so formatting never shows as a change. Unset: no further claims. ${change}`,
    },
    jwks: {
      type: str,
      optional: true,
      description: `JSON text of ${FEDERATED_JWKS_RULE}. Compared as JSON. ${change}`,
    },
  };
}

type Parsed = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

function parseJsonObject(text: string, what: string): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, message: `${what} is not JSON` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, message: `${what} must be a JSON object` };
  return { ok: true, value: v as Record<string, unknown> };
}

/** The checks that need nothing but the value (the control plane also checks addresses, keys and the audience's base). */
export function credentialDiagnostics(obj: TfObject, path: readonly PathStep[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  // Inside a block set the element has no addressable path, so diagnostics point at the block.
  const at = (field: CredentialFieldName): PathStep[] => (path.length ? [...path] : [field]);
  const bad = (summary: string, field: CredentialFieldName, detail: string): void => void out.push(error(summary, `${capitalize(detail)}.`, at(field)));
  if (typeof obj.issuer === 'string') for (const v of issuerSyntax(obj.issuer).violations) bad('Invalid federated credential issuer', 'issuer', v);
  if (typeof obj.subject === 'string') for (const v of subjectViolations(obj.subject)) bad('Invalid federated credential subject', 'subject', v);
  if (typeof obj.claims_json === 'string') {
    const claims = parseJsonObject(obj.claims_json, 'claims_json');
    if (!claims.ok) bad('Invalid federated credential claims', 'claims_json', claims.message);
    else for (const v of claimsViolations(claims.value)) bad('Invalid federated credential claims', 'claims_json', v);
  }
  if (typeof obj.jwks === 'string') {
    const jwks = parseJsonObject(obj.jwks, 'jwks');
    const keys = jwks.ok ? jwks.value.keys : undefined;
    if (!jwks.ok) bad('Invalid federated credential JWKS', 'jwks', jwks.message);
    else if (!Array.isArray(keys) || keys.length < 1 || keys.length > FEDERATED_JWKS_KEYS_MAX) bad('Invalid federated credential JWKS', 'jwks', `jwks must be a JWK Set: a "keys" array of 1-${FEDERATED_JWKS_KEYS_MAX} keys`);
    else {
      for (const k of keys) {
        const priv = k !== null && typeof k === 'object' ? privateJwkMembers(k as Record<string, unknown>) : [];
        if (priv.length) bad('Invalid federated credential JWKS', 'jwks', `jwks must hold public keys only; a key has ${priv.join(', ')}`);
      }
    }
  }
  return out;
}

/** The request body for a planned (wholly known) credential object. */
export function toCreateInput(obj: TfObject): WireFederatedCredentialCreate {
  const claims = typeof obj.claims_json === 'string' ? (JSON.parse(obj.claims_json) as Record<string, unknown>) : undefined;
  const jwks = typeof obj.jwks === 'string' ? (JSON.parse(obj.jwks) as WireJwks) : undefined;
  return {
    issuer: String(obj.issuer),
    subject: String(obj.subject),
    ...(typeof obj.audience === 'string' ? { audience: obj.audience } : {}),
    ...(claims && Object.keys(claims).length ? { claims } : {}),
    ...(jwks ? { jwks } : {}),
  };
}

/** JSON text (or null, meaning `empty`) as a value; undefined for text that is unknown or not JSON. */
function jsonValue(v: TfValue | undefined, empty: unknown): unknown {
  if (v === null || v === undefined) return empty;
  if (typeof v !== 'string') return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

function sameJson(a: TfValue | undefined, b: TfValue | undefined, empty: unknown): boolean {
  const x = jsonValue(a, empty);
  const y = jsonValue(b, empty);
  return x !== undefined && y !== undefined && jsonEqual(x, y);
}

/**
 * Whether a configured credential is the one a known object (prior state or the API) describes.
 * An unset (or unknown) audience matches any audience: the server picks the default.
 */
export function describesSame(config: TfObject, known: TfObject): boolean {
  if (config.issuer !== known.issuer || config.subject !== known.subject) return false;
  const audience = config.audience ?? null;
  if (audience !== null && !isUnknown(audience) && audience !== known.audience) return false;
  return sameJson(config.claims_json, known.claims_json, {}) && sameJson(config.jwks, known.jwks, null);
}

/**
 * The API's credential as Terraform fields. The JSON fields keep `like`'s text when it is the same
 * JSON value (what the user wrote stays in state), else the canonical text (null for none).
 */
export function credentialFields(c: WireFederatedCredential, like: TfObject | null): Record<CredentialFieldName, TfValue> {
  const claims = Object.keys(c.claims).length ? canonicalJson(c.claims) : null;
  const jwks = c.jwks ? canonicalJson(c.jwks) : null;
  const fields = { issuer: c.issuer, subject: c.subject, audience: c.audience, claims_json: claims, jwks };
  if (like === null) return fields;
  return {
    ...fields,
    claims_json: sameJson(like.claims_json, claims, {}) ? (like.claims_json ?? null) : claims,
    jwks: sameJson(like.jwks, jwks, null) ? (like.jwks ?? null) : jwks,
  };
}
