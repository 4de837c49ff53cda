/** Conversions between API agents and Terraform objects, shared by the resource and data sources. */
import type { TfValue } from '../codec/values';
import type { WireAgent as Agent } from '../../../sdk/src/core/wire';
import { METADATA_RULE, metadataViolations, NAME_RULE, nameViolations, publicKeyViolations, SCOPE_RULE, scopesViolations } from '../../../model/agent';
import { asStringMap, isUnknown, type TfObject } from '../codec/values';
import { error, type Diagnostic } from '../diag';

/** `may_act` as every agent object of this provider describes it (computed: declare grants with certusordo_agent_delegation). */
export const MAY_ACT_DESCRIPTION =
  'Ids of the agents that may act for this one (RFC 8693 token exchange): one entry per `certusordo_agent_delegation` whose `subject_agent_id` is this agent (or grant made over the API). Empty: nobody may. Refreshed on every read.';

/** The server-owned attributes every agent object in this provider exposes. */
export function agentAttributes(a: Agent): Record<string, TfValue> {
  return {
    id: a.id,
    name: a.name,
    scopes: [...a.scopes],
    metadata: { ...a.metadata },
    public_key: a.public_key,
    status: a.status,
    created_at: a.created_at,
    last_auth_at: a.last_auth_at ?? null,
    may_act: [...(a.may_act ?? [])],
  };
}

const NAME_FIX = `Use ${NAME_RULE} (for example \`payment-processor\`).`;
const SCOPE_FIX = `Each scope is ${SCOPE_RULE}.`;
const METADATA_FIX = `Use ${METADATA_RULE}.`;
const PUBLIC_KEY_FIX = 'Leave `public_key` unset to let the control plane generate a key pair.';

/** Known parts of name/scopes/metadata/public_key checked with the shared model rules (model/agent.ts). */
export function agentFieldDiagnostics(config: TfObject): Diagnostic[] {
  const out: Diagnostic[] = [];
  const name = config.name;
  if (typeof name === 'string') {
    for (const v of nameViolations(name)) out.push(error('Invalid agent name', `${capitalize(v)}. ${NAME_FIX}`, ['name']));
  }
  const scopes = config.scopes;
  if (Array.isArray(scopes)) {
    const known = scopes.filter((s): s is string => typeof s === 'string');
    for (const v of scopesViolations(known)) out.push(error('Invalid agent scope', `${capitalize(v)}. ${SCOPE_FIX}`, ['scopes']));
  }
  const metadata = config.metadata;
  if (metadata !== null && metadata !== undefined && !isUnknown(metadata)) {
    const known = asStringMap(Object.fromEntries(Object.entries(metadata as TfObject).filter(([, v]) => !isUnknown(v)))) ?? {};
    for (const v of metadataViolations(known)) out.push(error('Invalid agent metadata', `${capitalize(v)}. ${METADATA_FIX}`, ['metadata']));
  }
  // The control plane's own rule (shape, canonical base64url, a usable curve point), at plan time.
  const key = config.public_key;
  if (typeof key === 'string') {
    for (const v of publicKeyViolations(key, '`public_key`')) out.push(error('Invalid public key', `${v}. ${PUBLIC_KEY_FIX}`, ['public_key']));
  }
  return out;
}

/** The first letter in upper case: model rule texts start in lower case, diagnostics as sentences. */
export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
