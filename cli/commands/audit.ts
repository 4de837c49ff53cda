/** `certusordo audit …`: read and verify the hash-chained audit log (via the SDK). */
import type { Command } from 'commander';
import type { AuditEventListParams } from '../../sdk/src';
import { clientFor, collect, formatDate, globals, group, parsePositiveInt, parseTime, printJson, printTable } from './common';

export function register(program: Command): void {
  const audit = group(program, 'audit', 'Read and verify the audit log');

  audit
    .command('list')
    .description('List audit events in order')
    .option('--agent <id>', "only events about this agent")
    .option('--action <action>', 'only this action (e.g. agent.revoked)')
    .option('--since <time>', 'from this time (ISO time, or an age like 7d)', parseTime)
    .option('--until <time>', 'up to this time (ISO time, or an age like 1h)', parseTime)
    .option('--limit <n>', 'stop after n events', parsePositiveInt)
    .action(async (o: { agent?: string; action?: string; since?: Date; until?: Date; limit?: number }, cmd: Command) => {
      const params: AuditEventListParams = {
        ...(o.agent ? { agentId: o.agent } : {}),
        ...(o.action ? { action: o.action } : {}),
        ...(o.since ? { since: o.since } : {}),
        ...(o.until ? { until: o.until } : {}),
        limit: Math.min(o.limit ?? 200, 200),
      };
      const events = await collect(clientFor(cmd).auditEvents.list(params), 'events', o.limit);
      if (globals(cmd).json) return printJson(events);
      if (events.length === 0) return void process.stderr.write('No events found.\n');
      printTable(
        ['SEQ', 'TIME', 'ACTION', 'OUTCOME', 'ACTOR', 'TARGET', 'REASON'],
        events.map((e) => [
          String(e.seq),
          formatDate(e.createdAt),
          e.action,
          e.outcome,
          e.actorId ? `${e.actorType}:${e.actorId}` : e.actorType,
          e.targetId ? `${e.targetType}:${e.targetId}` : (e.targetType ?? '-'),
          e.reason ?? '',
        ]),
      );
    });

  audit
    .command('verify')
    .description('Check the audit hash chain; exits 1 when it is broken')
    .action(async (_o: object, cmd: Command) => {
      const result = await clientFor(cmd).auditEvents.verify();
      if (globals(cmd).json) printJson(result);
      else if (result.valid) process.stdout.write(`Audit chain intact: ${result.eventsChecked} events checked.\n`);
      else {
        process.stdout.write(
          `Audit chain BROKEN at seq ${result.firstBrokenSeq ?? '?'}: ${result.reason ?? 'unknown reason'} (${result.eventsChecked} events checked).\n`,
        );
      }
      if (!result.valid) process.exitCode = 1;
    });
}
