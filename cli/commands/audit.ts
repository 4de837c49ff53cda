/** `certusordo audit …`: read, checkpoint and verify the keyed audit chain (via the SDK). */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { AuditEventListParams } from '../../sdk/src';
import { AUDIT_PAGE_MAX } from '../../model/limits';
import { clientFor, collect, formatDate, globals, group, parsePositiveInt, parseTime, printJson, printTable, terminalSafe, UsageError } from './common';
import { AGENT_REF_HELP, resolveAgentId } from './agent-ref';

/** Events a plain `audit list` shows: a screenful of the most recent. */
const DEFAULT_LIST_LIMIT = 20;
/** Short actor kinds keep the table narrow; --json has the full record. */
const ACTOR_LABEL: Record<string, string> = { api_key: 'key', agent: 'agent', system: 'system' };

export function register(program: Command): void {
  const audit = group(program, 'audit', 'Read and verify the audit log');

  audit
    .command('list')
    .description('List audit events, newest first (--oldest-first for the chain order)')
    .option('--agent <agent>', `only events about this agent (${AGENT_REF_HELP})`)
    .option('--action <action>', 'only this action (e.g. agent.revoked)')
    .option('--since <time>', 'from this time (ISO time, or an age like 7d)', parseTime)
    .option('--until <time>', 'up to this time (ISO time, or an age like 1h)', parseTime)
    .option('--limit <n>', `at most n events (default ${DEFAULT_LIST_LIMIT})`, parsePositiveInt)
    .option('--oldest-first', 'oldest events first, in chain (seq) order')
    .action(async (o: { agent?: string; action?: string; since?: Date; until?: Date; limit?: number; oldestFirst?: boolean }, cmd: Command) => {
      const limit = o.limit ?? DEFAULT_LIST_LIMIT;
      const client = clientFor(cmd);
      const params: AuditEventListParams = {
        ...(o.agent ? { agentId: await resolveAgentId(client, o.agent) } : {}),
        ...(o.action ? { action: o.action } : {}),
        ...(o.since ? { since: o.since } : {}),
        ...(o.until ? { until: o.until } : {}),
        order: o.oldestFirst ? 'asc' : 'desc',
        limit: Math.min(limit, AUDIT_PAGE_MAX),
      };
      const events = await collect(client.auditEvents.list(params), 'events', limit);
      if (globals(cmd).json) return printJson(events);
      if (events.length === 0) return void process.stderr.write('No events found.\n');
      printTable(
        ['SEQ', 'TIME', 'ACTION', 'OUTCOME', 'ACTOR', 'TARGET', 'REASON'],
        events.map((e) => [
          String(e.seq),
          formatDate(e.createdAt),
          e.action,
          e.outcome,
          e.actorId ? `${ACTOR_LABEL[e.actorType] ?? e.actorType}:${e.actorId}` : e.actorType,
          e.targetId ?? '-',
          e.reason ?? '',
        ]),
      );
    });

  audit
    .command('checkpoint')
    .description("Print a signed checkpoint of the verified chain head (a compact JWS, verifiable offline with the organization's JWKS); keep it, e.g. `> cp.jws`")
    .action(async (_o: object, cmd: Command) => {
      const cp = await clientFor(cmd).auditEvents.checkpoint();
      if (globals(cmd).json) printJson(cp);
      else process.stdout.write(`${cp.checkpoint}\n`);
    });

  audit
    .command('verify')
    .description('Check the audit chain (from the last verified point); exits 1 when it is broken or no longer extends the checkpoint')
    .option('--checkpoint <file>', 'a checkpoint saved by `certusordo audit checkpoint` (- for stdin): the log must still extend it')
    .option('--full', 're-walk the whole chain instead of resuming from the last verified point (admin key)')
    .action(async (o: { checkpoint?: string; full?: boolean }, cmd: Command) => {
      const checkpoint = o.checkpoint === undefined ? undefined : readCheckpoint(o.checkpoint);
      const result = await clientFor(cmd).auditEvents.verify({ checkpoint, full: o.full });
      if (globals(cmd).json) printJson(result);
      else if (result.valid) {
        process.stdout.write(`Audit chain intact: ${result.eventsChecked} events checked.\n`);
        process.stdout.write(`Verified through seq ${result.seq}${result.fromSeq > 0 ? ` (resumed from seq ${result.fromSeq}, verified before)` : ''}.\n`);
        if (checkpoint) process.stdout.write(`The log extends the checkpoint${checkpointSeq(checkpoint)}.\n`);
      } else {
        process.stdout.write(
          `Audit chain BROKEN${result.firstBrokenSeq === null ? '' : ` at seq ${result.firstBrokenSeq}`}: ${terminalSafe(result.reason ?? 'unknown reason')} (${result.eventsChecked} events checked).\n`,
        );
      }
      if (!result.valid) process.exitCode = 1;
    });
}

function readCheckpoint(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`cannot read the checkpoint file ${file}: ${(err as Error).message}`);
  }
  if (!text) throw new UsageError(`the checkpoint file ${file} is empty`);
  return text;
}

/** " at seq N" from the checkpoint's claims (display only; the server checks the signature). */
function checkpointSeq(jws: string): string {
  try {
    const seq = (JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? ` at seq ${seq}` : '';
  } catch {
    return '';
  }
}
