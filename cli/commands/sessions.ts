/** `certusordo sessions …`: agents' bounded sessions, seen from the organization (via the SDK). */
import type { Command } from 'commander';
import type { Session, SessionListParams, SessionStatus } from '../../sdk/src';
import { LIST_PAGE_MAX } from '../../model/limits';
import { SESSION_STATUSES } from '../../model/statuses';
import { clientFor, collect, confirm, formatDate, globals, group, parsePositiveInt, printFields, printJson, printTable, UsageError } from './common';
import { AGENT_REF_HELP, resolveAgentId } from './agent-ref';

const STATUSES: readonly string[] = SESSION_STATUSES;

const budget = (s: Session) => (s.maxOperations === null ? `${s.operationsUsed}` : `${s.operationsUsed}/${s.maxOperations}`);

function show(cmd: Command, s: Session): void {
  if (globals(cmd).json) return printJson(s);
  printFields([
    ['ID', s.id],
    ['Agent', s.agentId],
    ['Status', s.status],
    ['Scopes', s.scopes.join(' ')],
    ['Operations', s.maxOperations === null ? `${s.operationsUsed} (no budget)` : `${s.operationsUsed} of ${s.maxOperations}`],
    ['Purpose', s.purpose ?? '-'],
    ['Created', formatDate(s.createdAt)],
    ['Expires', formatDate(s.expiresAt)],
    ['Ended', s.endedAt ? `${formatDate(s.endedAt)} (${s.endReason ?? '-'})` : '-'],
  ]);
}

export function register(program: Command): void {
  const sessions = group(program, 'sessions', "Inspect and end agents' bounded sessions");

  sessions
    .command('list')
    .description('List sessions (all pages), oldest first')
    .option('--agent <agent>', `only this agent's sessions (${AGENT_REF_HELP})`)
    .option('--status <status>', `only sessions with this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'stop after n sessions', parsePositiveInt)
    .addHelpText('after', '\nExamples:\n  certusordo sessions list --status active\n  certusordo sessions list --agent billing-bot --json')
    .action(async (o: { agent?: string; status?: string; limit?: number }, cmd: Command) => {
      if (o.status !== undefined && !STATUSES.includes(o.status)) {
        throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
      }
      const client = clientFor(cmd);
      const params: SessionListParams = {
        ...(o.agent ? { agentId: await resolveAgentId(client, o.agent) } : {}),
        ...(o.status ? { status: o.status as SessionStatus } : {}),
        limit: Math.min(o.limit ?? LIST_PAGE_MAX, LIST_PAGE_MAX),
      };
      const found = await collect(client.sessions.list(params), 'sessions', o.limit);
      if (globals(cmd).json) return printJson(found);
      if (found.length === 0) return void process.stderr.write('No sessions found.\n');
      printTable(
        ['ID', 'AGENT', 'STATUS', 'OPS', 'CREATED', 'EXPIRES', 'SCOPES'],
        found.map((s) => [s.id, s.agentId, s.status, budget(s), formatDate(s.createdAt), formatDate(s.expiresAt), s.scopes.join(' ')]),
      );
    });

  sessions
    .command('get')
    .description("Show one session's details")
    .argument('<id>', 'session id')
    .action(async (id: string, _o: object, cmd: Command) => show(cmd, await clientFor(cmd).sessions.get(id)));

  sessions
    .command('end')
    .description("End a session now: its token stops working (needs an operator or admin key; ending an ended session is a no-op)")
    .argument('<id>', 'session id')
    .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
    .action(async (id: string, o: { yes?: boolean }, cmd: Command) => {
      await confirm(`End session ${id}? The agent's work under it stops.`, o.yes);
      show(cmd, await clientFor(cmd).sessions.end(id));
    });
}
