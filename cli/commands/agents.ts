/** `certusordo agents …`: create, list, inspect and change the lifecycle of agents (via the SDK). */
import type { Command } from 'commander';
import type { Agent, AgentListParams, AgentStatus, CreatedAgent } from '../../sdk/src';
import { NAME_RULE, SCOPE_RULE } from '../../model/agent';
import { MAY_ACT_RULE } from '../../model/delegation';
import { LIST_PAGE_MAX } from '../../model/limits';
import { AGENT_TRANSITION_ROLES } from '../../model/roles';
import { AGENT_STATUSES } from '../../model/statuses';
import {
  clientFor,
  collect,
  collectList,
  collectPairs,
  confirm,
  formatDate,
  globals,
  group,
  parsePositiveInt,
  parseTime,
  printFields,
  printJson,
  printTable,
  UsageError,
} from './common';
import { AGENT_REF_HELP, resolveAgentId } from './agent-ref';
import { credentialFromOptions, credentialOptions } from './agent-federated-credentials';

const STATUSES: readonly string[] = AGENT_STATUSES;
export const DESCRIPTION = 'Manage agents (AI systems with cryptographic identities)';

function printAgent(agent: Agent): void {
  printFields([
    ['ID', agent.id],
    ['Name', agent.name],
    ['Status', agent.status],
    ['Scopes', agent.scopes.join(' ') || '-'],
    ['Public key', agent.publicKey ?? '-'],
    ['Metadata', Object.keys(agent.metadata).length ? Object.entries(agent.metadata).map(([k, v]) => `${k}=${v}`).join(' ') : '-'],
    ['Created', formatDate(agent.createdAt)],
    ['Updated', formatDate(agent.updatedAt)],
    ['Last auth', agent.lastAuthAt ? formatDate(agent.lastAuthAt) : 'never'],
    ['May act', agent.mayAct.join(' ') || '-'],
  ]);
}

function show(cmd: Command, agent: Agent): void {
  if (globals(cmd).json) printJson(agent);
  else printAgent(agent);
}

export function register(program: Command): void {
  const agents = group(program, 'agents', DESCRIPTION);

  credentialOptions(
    agents
      .command('create')
      .description('Register an agent; prints its secret once (none with --issuer/--subject: a secretless agent)')
      .argument('<name>', `unique name, ${NAME_RULE} (e.g. invoice-processor-prod)`)
      .option('-s, --scope <scope>', `permitted operation, ${SCOPE_RULE} (repeatable or comma-separated)`, collectList)
      .option('-m, --metadata <key=value>', 'metadata entry (repeatable)', collectPairs)
      .option('--public-key <base64url>', 'register your own Ed25519 public key instead of having one generated (no secret is returned)')
      .option('--may-act <agent id>', `an agent that may act for this one (repeatable or comma-separated): ${MAY_ACT_RULE}`, collectList),
    false,
  )
    .addHelpText(
      'after',
      '\nExamples:\n  certusordo agents create payment-processor -s payments:read -s payments:write -m team=payments\n' +
        '  certusordo agents create report-generator --scope data:read,reports:read --json\n' +
        '  certusordo agents create deployer -s deploy:write --issuer https://token.actions.githubusercontent.com --subject repo:acme/payments:environment:production',
    )
    .action(async (name: string, o: { scope?: string[]; metadata?: Record<string, string>; publicKey?: string; issuer?: string; subject?: string; audience?: string; claim?: Record<string, unknown>; jwksFile?: string; mayAct?: string[] }, cmd: Command) => {
      if ((o.issuer === undefined) !== (o.subject === undefined)) throw new UsageError('--issuer and --subject go together (a federated credential)');
      const agent: CreatedAgent = await clientFor(cmd).agents.create({
        name,
        scopes: o.scope ?? [],
        ...(o.metadata ? { metadata: o.metadata } : {}),
        ...(o.publicKey ? { publicKey: o.publicKey } : {}),
        ...(o.issuer !== undefined && o.subject !== undefined ? { federatedCredentials: [credentialFromOptions({ ...o, issuer: o.issuer, subject: o.subject })] } : {}),
        ...(o.mayAct ? { mayAct: o.mayAct } : {}),
      });
      if (globals(cmd).json) printJson(agent);
      else {
        printAgent(agent);
        if (agent.secret) process.stdout.write(`Secret:     ${agent.secret}\n`);
      }
      if (agent.secret) {
        process.stderr.write(
          '\nWARNING: store the secret now (e.g. in your secret manager). It is shown only this once and cannot be retrieved later.\n',
        );
      }
    });

  agents
    .command('list')
    .description('List agents (all pages), oldest first')
    .option('--status <status>', `only agents with this status (${STATUSES.join(', ')})`)
    .option('--name <name>', 'only the agent with exactly this name')
    .option('--name-prefix <prefix>', 'only agents whose name starts with this')
    .option('--never-authenticated', 'only agents that never authenticated')
    .option('--inactive-since <time>', 'only agents not seen since this time (ISO time, or an age like 90d)', parseTime)
    .option('--limit <n>', 'stop after n agents', parsePositiveInt)
    .addHelpText('after', '\nExamples:\n  certusordo agents list --status active\n  certusordo agents list --inactive-since 90d --json')
    .action(async (o: { status?: string; name?: string; namePrefix?: string; neverAuthenticated?: boolean; inactiveSince?: Date; limit?: number }, cmd: Command) => {
      if (o.status !== undefined && !STATUSES.includes(o.status)) {
        throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
      }
      const params: AgentListParams = {
        ...(o.status ? { status: o.status as AgentStatus } : {}),
        ...(o.name ? { name: o.name } : {}),
        ...(o.namePrefix ? { namePrefix: o.namePrefix } : {}),
        ...(o.neverAuthenticated ? { neverAuthenticated: true } : {}),
        ...(o.inactiveSince ? { inactiveSince: o.inactiveSince } : {}),
        limit: Math.min(o.limit ?? LIST_PAGE_MAX, LIST_PAGE_MAX),
      };
      const found = await collect(clientFor(cmd).agents.list(params), 'agents', o.limit);
      if (globals(cmd).json) return printJson(found);
      if (found.length === 0) return void process.stderr.write('No agents found.\n');
      printTable(
        ['ID', 'NAME', 'STATUS', 'LAST AUTH', 'CREATED', 'SCOPES'],
        found.map((a) => [a.id, a.name, a.status, a.lastAuthAt ? formatDate(a.lastAuthAt) : 'never', formatDate(a.createdAt), a.scopes.join(' ')]),
      );
    });

  agents
    .command('get')
    .description("Show one agent's details")
    .argument('<agent>', AGENT_REF_HELP)
    .action(async (ref: string, _o: object, cmd: Command) => {
      const client = clientFor(cmd);
      show(cmd, await client.agents.get(await resolveAgentId(client, ref)));
    });

  agents
    .command('update')
    .description("Change an agent's name, scopes or metadata")
    .argument('<agent>', AGENT_REF_HELP)
    .option('--name <name>', 'new name')
    .option('-s, --scope <scope>', 'the new scope list, replacing the old one (repeatable or comma-separated)', collectList)
    .option('--clear-scopes', 'remove every scope')
    .option('-m, --metadata <key=value>', 'the new metadata, replacing the whole map (repeatable)', collectPairs)
    .option('--clear-metadata', 'remove all metadata')
    .option('--may-act <agent id>', 'the new list of agents that may act for this one, replacing the old one (repeatable or comma-separated)', collectList)
    .option('--clear-may-act', 'let no agent act for this one')
    .action(
      async (
        ref: string,
        o: { name?: string; scope?: string[]; clearScopes?: boolean; metadata?: Record<string, string>; clearMetadata?: boolean; mayAct?: string[]; clearMayAct?: boolean },
        cmd: Command,
      ) => {
        if (o.scope && o.clearScopes) throw new UsageError('use either --scope or --clear-scopes');
        if (o.metadata && o.clearMetadata) throw new UsageError('use either --metadata or --clear-metadata');
        if (o.mayAct && o.clearMayAct) throw new UsageError('use either --may-act or --clear-may-act');
        const scopes = o.clearScopes ? [] : o.scope;
        const metadata = o.clearMetadata ? {} : o.metadata;
        const mayAct = o.clearMayAct ? [] : o.mayAct;
        if (o.name === undefined && scopes === undefined && metadata === undefined && mayAct === undefined) {
          throw new UsageError('nothing to update: pass --name, --scope, --clear-scopes, --metadata, --clear-metadata, --may-act or --clear-may-act');
        }
        const client = clientFor(cmd);
        const agent = await client.agents.update(await resolveAgentId(client, ref), {
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(scopes !== undefined ? { scopes } : {}),
          ...(metadata !== undefined ? { metadata } : {}),
          ...(mayAct !== undefined ? { mayAct } : {}),
        });
        show(cmd, agent);
      },
    );

  agents
    .command('grant-act')
    .description('Let one agent act for another (RFC 8693 token exchange): adds the actor to the agent\'s may_act')
    .argument('<id>', 'the agent acted for (the subject)')
    .argument('<actor id>', 'the agent that may act for it')
    .action(async (id: string, actorId: string, _o: object, cmd: Command) => {
      const grant = await clientFor(cmd).agents.grantDelegation(id, actorId);
      if (globals(cmd).json) printJson(grant);
      else printFields([['Subject', grant.subjectAgentId], ['Actor', grant.actorAgentId], ['Granted', formatDate(grant.createdAt)]]);
    });

  agents
    .command('revoke-act')
    .description('Remove an actor from the agent\'s may_act: every token it holds for the agent stops working at once')
    .argument('<id>', 'the agent acted for (the subject)')
    .argument('<actor id>', 'the agent that may no longer act for it')
    .action(async (id: string, actorId: string, _o: object, cmd: Command) => {
      const grant = await clientFor(cmd).agents.removeDelegation(id, actorId);
      if (globals(cmd).json) printJson(grant);
      else process.stdout.write(`Agent ${grant.actorAgentId} may no longer act for agent ${grant.subjectAgentId}.\n`);
    });

  agents
    .command('suspend')
    .description(`Temporarily disable an agent: it can no longer authenticate (undo with activate). Needs an ${AGENT_TRANSITION_ROLES.suspend} or admin key`)
    .argument('<agent>', AGENT_REF_HELP)
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(async (ref: string, o: { reason?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      show(cmd, await client.agents.suspend(await resolveAgentId(client, ref), o.reason));
    });

  agents
    .command('activate')
    .description(`Re-enable a suspended agent (a revoked agent cannot be activated). Needs an ${AGENT_TRANSITION_ROLES.activate} key`)
    .argument('<agent>', AGENT_REF_HELP)
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(async (ref: string, o: { reason?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      show(cmd, await client.agents.activate(await resolveAgentId(client, ref), o.reason));
    });

  agents
    .command('revoke')
    .description(`Permanently disable an agent and invalidate its tokens. Cannot be undone. Needs an ${AGENT_TRANSITION_ROLES.revoke} key`)
    .argument('<agent>', AGENT_REF_HELP)
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
    .action(async (ref: string, o: { reason?: string; yes?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      const id = await resolveAgentId(client, ref);
      if (!o.yes) {
        const agent = await client.agents.get(id);
        await confirm(`Revoke agent ${agent.name} (${agent.id})? This is permanent and cannot be undone.`, o.yes);
      }
      show(cmd, await client.agents.revoke(id, o.reason));
    });
}
