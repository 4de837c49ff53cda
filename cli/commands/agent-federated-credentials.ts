/**
 * `certusordo agents federated-credentials …`: the workloads whose platform tokens (GitHub Actions,
 * Kubernetes, SPIFFE) authenticate an agent without any stored secret (via the SDK).
 */
import fs from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { FederatedCredential, FederatedCredentialCreateParams } from '../../sdk/src';
import { FEDERATED_AUDIENCE_RULE, FEDERATED_ISSUER_RULE, privateJwkMembers } from '../../model/federation';
import { DESCRIPTION as AGENTS_DESCRIPTION } from './agents';
import { clientFor, confirm, formatDate, globals, group, printFields, printJson, printTable, UsageError } from './common';

function fields(c: FederatedCredential): Array<[string, string]> {
  return [
    ['Id', c.id],
    ['Status', c.status],
    ['Issuer', c.issuer],
    ['Subject', c.subject],
    ['Audience', c.audience],
    ['Claims', Object.keys(c.claims).length ? JSON.stringify(c.claims) : '-'],
    ['Keys', c.jwks ? `${c.jwks.keys.length} inline` : 'OpenID discovery'],
    ['Created', formatDate(c.createdAt)],
    ['Revoked', formatDate(c.revokedAt)],
  ];
}

/** Collects repeatable `name=<JSON value>` claims (a bare word is a string). */
export function collectClaims(value: string, previous: Record<string, unknown> | undefined): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected name=value (the value as JSON, or a bare string).');
  const raw = value.slice(eq + 1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = raw;
  }
  return { ...previous, [value.slice(0, eq)]: parsed };
}

interface AddOptions {
  issuer: string;
  subject: string;
  audience?: string;
  claim?: Record<string, unknown>;
  jwksFile?: string;
}

/** The credential the options describe (shared by `agents create --issuer …` and `federated-credentials add`). */
export function credentialFromOptions(o: AddOptions): FederatedCredentialCreateParams {
  let jwks: FederatedCredentialCreateParams['jwks'];
  if (o.jwksFile !== undefined) {
    try {
      jwks = JSON.parse(fs.readFileSync(o.jwksFile, 'utf8')) as FederatedCredentialCreateParams['jwks'];
    } catch (err) {
      throw new UsageError(`--jwks-file: cannot read a JSON JWK Set from ${o.jwksFile} (${(err as Error).message})`);
    }
    // Refused here, before a private key crosses the network (the server would refuse it too).
    const keys: unknown = (jwks as { keys?: unknown } | null)?.keys;
    for (const [i, k] of (Array.isArray(keys) ? keys : []).entries()) {
      const members = k !== null && typeof k === 'object' ? privateJwkMembers(k as Record<string, unknown>) : [];
      if (members.length > 0) throw new UsageError(`--jwks-file: keys[${i}] holds private key members (${members.join(', ')}); give the issuer's public keys only`);
    }
  }
  return {
    issuer: o.issuer,
    subject: o.subject,
    ...(o.audience !== undefined ? { audience: o.audience } : {}),
    ...(o.claim ? { claims: o.claim } : {}),
    ...(jwks ? { jwks } : {}),
  };
}

/** The options of one credential, on `add` and on `agents create`. */
export function credentialOptions(cmd: Command, required: boolean): Command {
  const opt = (flags: string, text: string) => (required ? cmd.requiredOption(flags, text) : cmd.option(flags, text));
  opt('--issuer <url>', `the platform token's issuer: ${FEDERATED_ISSUER_RULE}`);
  opt('--subject <sub>', "the platform token's sub (e.g. repo:OWNER/REPO:environment:NAME, system:serviceaccount:NS:NAME)");
  return cmd
    .option('--audience <aud>', FEDERATED_AUDIENCE_RULE)
    .option('--claim <name=value>', 'a further claim the token must carry (value as JSON, or a bare string; repeatable)', collectClaims)
    .option('--jwks-file <path>', "the issuer's public keys (a JWK Set) when the control plane cannot reach the issuer");
}

export function register(program: Command): void {
  const creds = group(
    group(program, 'agents', AGENTS_DESCRIPTION),
    'federated-credentials',
    "Manage the workloads whose platform tokens authenticate an agent (no secret anywhere)",
  );

  creds
    .command('list')
    .description("List an agent's federated credentials, active and removed")
    .argument('<agent-id>', 'agent id')
    .action(async (agentId: string, _o: object, cmd: Command) => {
      const list = await clientFor(cmd).agents.federatedCredentials.list(agentId);
      if (globals(cmd).json) return printJson(list);
      printTable(['ID', 'STATUS', 'ISSUER', 'SUBJECT', 'CREATED'], list.map((c) => [c.id, c.status, c.issuer, c.subject, formatDate(c.createdAt)]));
    });

  credentialOptions(
    creds.command('add').description('Trust a workload: its platform token then authenticates the agent').argument('<agent-id>', 'agent id'),
    true,
  )
    .addHelpText('after', '\nExample:\n  certusordo agents federated-credentials add <agent-id> --issuer https://token.actions.githubusercontent.com --subject repo:acme/payments:environment:production')
    .action(async (agentId: string, o: AddOptions, cmd: Command) => {
      const created = await clientFor(cmd).agents.federatedCredentials.create(agentId, credentialFromOptions(o));
      if (globals(cmd).json) printJson(created);
      else printFields(fields(created));
    });

  creds
    .command('remove')
    .description("Remove one of an agent's federated credentials (not the agent's last key or credential)")
    .argument('<agent-id>', 'agent id')
    .argument('<credential-id>', 'credential id (from `agents federated-credentials list`)')
    .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
    .action(async (agentId: string, credentialId: string, o: { yes?: boolean }, cmd: Command) => {
      await confirm(`Remove federated credential ${credentialId} of agent ${agentId}? Its workload can no longer obtain tokens.`, o.yes);
      const removed = await clientFor(cmd).agents.federatedCredentials.revoke(agentId, credentialId);
      if (globals(cmd).json) printJson(removed);
      else printFields(fields(removed));
    });
}
