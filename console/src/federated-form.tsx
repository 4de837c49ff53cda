/**
 * The fields of one federated credential (workload identity federation), shared by the create
 * dialog (a secretless agent) and the agent page (add a credential), and their reading into the
 * request body. The checks that need nothing but the value are model/federation.ts's, the ones the
 * server runs too: a mistake is named before anything is sent, and a JWKS holding a private key
 * never leaves the browser. The server still decides (its address and audience rules).
 */
import type { ComponentChildren } from 'preact';
import {
  claimsViolations, FEDERATED_AUDIENCE_RULE, FEDERATED_CLAIMS_RULE, FEDERATED_ISSUER_RULE, FEDERATED_JWKS_RULE, FEDERATED_SUBJECT_RULE,
  issuerSyntax, privateJwkMembers, subjectViolations,
} from '../../model/federation';
import type { FederatedCredentialInput } from './api';
import { inputValue, RuleText } from './ui';

export type PresetId = 'github' | 'kubernetes';

/** The form's text as typed; `preset`: the pattern last filled in (its help stays shown). */
export interface FederatedDraft { issuer: string; subject: string; audience: string; claims: string; jwks: string; preset: PresetId | null }
export const EMPTY_DRAFT: FederatedDraft = { issuer: '', subject: '', audience: '', claims: '', jwks: '', preset: null };

/**
 * A platform's subject pattern: help that fills the fields, never a guess. The placeholders stay
 * in capitals until the operator replaces them, and a subject still equal to the pattern is refused.
 */
interface Preset { label: string; issuer: string | null; subject: string; placeholders: string; help: ComponentChildren }
const PRESETS: Readonly<Record<PresetId, Preset>> = {
  github: {
    label: 'GitHub Actions',
    issuer: 'https://token.actions.githubusercontent.com',
    subject: 'repo:OWNER/REPO:ref:refs/heads/BRANCH',
    placeholders: 'OWNER, REPO and BRANCH',
    help: (
      <>
        Replace <code>OWNER</code>, <code>REPO</code> and <code>BRANCH</code>. A job in a deployment environment has the subject{' '}
        <code>repo:OWNER/REPO:environment:NAME</code>; a pull request <code>repo:OWNER/REPO:pull_request</code>. The workflow needs{' '}
        <code>permissions: id-token: write</code> and asks for its token with the audience below.
      </>
    ),
  },
  kubernetes: {
    label: 'Kubernetes',
    issuer: null,
    subject: 'system:serviceaccount:NS:NAME',
    placeholders: 'NS and NAME',
    help: (
      <>
        Replace <code>NS</code> (the namespace) and <code>NAME</code> (the service account). The issuer is your cluster's:{' '}
        <code>kubectl get --raw /.well-known/openid-configuration</code> shows it. For a cluster the control plane cannot reach, paste{' '}
        <code>kubectl get --raw /openid/v1/jwks</code> as the JWKS. The pod mounts a projected service-account token with the audience below.
      </>
    ),
  },
};

/** Parses an optional JSON object field; a problem is pushed, with an example of the right form. */
function jsonObject(text: string, field: string, example: string, problems: string[]): Record<string, unknown> | undefined {
  if (!text.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    problems.push(`${field} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${field} must be a JSON object, such as ${example}`);
    return undefined;
  }
  return value as Record<string, unknown>;
}

function jwksOf(text: string, problems: string[]): { keys: Record<string, unknown>[] } | undefined {
  const set = jsonObject(text, 'JWKS', '{"keys": [{"kty": "EC", …}]}', problems);
  if (!set) return undefined;
  const keys = set.keys;
  if (!Array.isArray(keys) || keys.some((k) => k === null || typeof k !== 'object' || Array.isArray(k))) {
    problems.push('JWKS must have "keys": an array of JWK objects');
    return undefined;
  }
  (keys as Record<string, unknown>[]).forEach((k, i) => {
    const secret = privateJwkMembers(k);
    if (secret.length) problems.push(`JWKS key ${i} has private members (${secret.join(', ')}): paste the issuer's public keys only`);
  });
  return { keys: keys as Record<string, unknown>[] };
}

/** The request body for the draft, or an Error naming every problem found. */
export function readDraft(d: FederatedDraft): FederatedCredentialInput {
  const problems: string[] = [];
  const issuer = d.issuer.trim();
  const subject = d.subject.trim();
  problems.push(...issuerSyntax(issuer).violations, ...subjectViolations(subject));
  for (const p of Object.values(PRESETS)) {
    if (subject === p.subject) problems.push(`replace ${p.placeholders} in the subject with your workload's values`);
  }
  const claims = jsonObject(d.claims, 'Claims', '{"repository_owner": "acme"}', problems);
  if (claims) problems.push(...claimsViolations(claims));
  const jwks = jwksOf(d.jwks, problems);
  if (problems.length) throw new Error(`The federated credential is not valid: ${problems.join('; ')}.`);
  const audience = d.audience.trim();
  return { issuer, subject, ...(audience ? { audience } : {}), ...(claims ? { claims } : {}), ...(jwks ? { jwks } : {}) };
}

/** The labelled fields of one credential; `prefix` keeps the ids unique on the page. */
export function FederatedFields({ prefix, draft, onChange }: { prefix: string; draft: FederatedDraft; onChange: (d: FederatedDraft) => void }) {
  const id = (field: string) => `${prefix}-${field}`;
  const set = (field: keyof Omit<FederatedDraft, 'preset'>) => (e: Event) => onChange({ ...draft, [field]: inputValue(e) });
  const fill = (presetId: PresetId) => {
    const p = PRESETS[presetId];
    // A pattern without a fixed issuer clears another pattern's: GitHub's issuer is no cluster's.
    const filledByPattern = Object.values(PRESETS).some((o) => o.issuer === draft.issuer);
    onChange({ ...draft, preset: presetId, subject: p.subject, issuer: p.issuer ?? (filledByPattern ? '' : draft.issuer) });
  };
  const preset = draft.preset ? PRESETS[draft.preset] : null;
  return (
    <>
      <fieldset class="presets" aria-describedby={id('preset-help')}>
        <legend>Fill in a subject pattern (optional)</legend>
        {(Object.keys(PRESETS) as PresetId[]).map((p) => (
          <button key={p} type="button" aria-pressed={draft.preset === p} onClick={() => fill(p)}>{PRESETS[p].label}</button>
        ))}
        <p id={id('preset-help')} class="help" data-preset-help={draft.preset ?? undefined}>
          {preset ? preset.help : 'A pattern fills the issuer (where it is fixed) and the subject with placeholders in capitals to replace.'}
        </p>
      </fieldset>
      <label for={id('issuer')}>Issuer</label>
      <input id={id('issuer')} required class="mono" autoComplete="off" spellcheck={false} placeholder="https://…" value={draft.issuer} onInput={set('issuer')} aria-describedby={id('issuer-help')} />
      <p id={id('issuer-help')} class="help"><RuleText text={FEDERATED_ISSUER_RULE} />.</p>
      <label for={id('subject')}>Subject</label>
      <input id={id('subject')} required class="mono" autoComplete="off" spellcheck={false} value={draft.subject} onInput={set('subject')} aria-describedby={id('subject-help')} />
      <p id={id('subject-help')} class="help"><RuleText text={FEDERATED_SUBJECT_RULE} />.</p>
      <label for={id('audience')}>Audience (optional)</label>
      <input id={id('audience')} class="mono" autoComplete="off" spellcheck={false} value={draft.audience} onInput={set('audience')} aria-describedby={id('audience-help')} />
      <p id={id('audience-help')} class="help"><RuleText text={FEDERATED_AUDIENCE_RULE} />.</p>
      <label for={id('claims')}>Claims (optional JSON object)</label>
      <textarea id={id('claims')} rows={2} class="mono" spellcheck={false} placeholder='{"repository_owner": "acme"}' value={draft.claims} onInput={set('claims')} aria-describedby={id('claims-help')} />
      <p id={id('claims-help')} class="help"><RuleText text={FEDERATED_CLAIMS_RULE} />.</p>
      <label for={id('jwks')}>JWKS (optional JSON)</label>
      <textarea id={id('jwks')} rows={3} class="mono" spellcheck={false} placeholder='{"keys": […]}' value={draft.jwks} onInput={set('jwks')} aria-describedby={id('jwks-help')} />
      <p id={id('jwks-help')} class="help"><RuleText text={FEDERATED_JWKS_RULE} />.</p>
    </>
  );
}
