/** `certusordo agents keys …`: an agent's Ed25519 keys, for rotation without changing its id (via the SDK). */
import type { Command } from 'commander';
import type { AgentKey, CreatedAgentKey } from '../../sdk/src';
import { DESCRIPTION as AGENTS_DESCRIPTION } from './agents';
import { clientFor, confirm, formatDate, globals, group, printFields, printJson, printTable } from './common';
import { AGENT_REF_HELP, resolveAgentId } from './agent-ref';

function fields(k: AgentKey): Array<[string, string]> {
  return [
    ['Kid', k.kid],
    ['Status', k.status],
    ['Public key', k.publicKey],
    ['Created', formatDate(k.createdAt)],
    ['Revoked', formatDate(k.revokedAt)],
  ];
}

export function register(program: Command): void {
  const keys = group(group(program, 'agents', AGENTS_DESCRIPTION), 'keys', "Manage an agent's keys (rotate without changing its id)");

  keys
    .command('list')
    .description("List an agent's keys, active and revoked")
    .argument('<agent>', AGENT_REF_HELP)
    .action(async (ref: string, _o: object, cmd: Command) => {
      const client = clientFor(cmd);
      const list = await client.agents.keys.list(await resolveAgentId(client, ref));
      if (globals(cmd).json) return printJson(list);
      printTable(
        ['KID', 'STATUS', 'CREATED', 'REVOKED', 'PUBLIC KEY'],
        list.map((k) => [k.kid, k.status, formatDate(k.createdAt), formatDate(k.revokedAt), k.publicKey]),
      );
    });

  keys
    .command('add')
    .description('Add a key to an agent; without --public-key one is generated and its secret printed once')
    .argument('<agent>', AGENT_REF_HELP)
    .option('--public-key <base64url>', 'register your own Ed25519 public key (no secret is returned)')
    .addHelpText(
      'after',
      '\nRotation: add a key, deploy the new secret, then `certusordo agents keys remove <agent> <old kid>`.',
    )
    .action(async (ref: string, o: { publicKey?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const key: CreatedAgentKey = await client.agents.keys.create(await resolveAgentId(client, ref), o.publicKey ? { publicKey: o.publicKey } : {});
      if (globals(cmd).json) printJson(key);
      else {
        printFields(fields(key));
        if (key.secret) process.stdout.write(`Secret:     ${key.secret}\n`);
      }
      if (key.secret) {
        process.stderr.write(
          '\nWARNING: store the secret now (e.g. in your secret manager). It is shown only this once and cannot be retrieved later.\n',
        );
      }
    });

  keys
    .command('remove')
    .description("Revoke one of an agent's keys (the last active key cannot be removed)")
    .argument('<agent>', AGENT_REF_HELP)
    .argument('<kid>', 'key id (from `agents keys list`); it may begin with "-" (put `--` before one beginning "-y")')
    .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
    // A kid is a base64url thumbprint, so 1 in 64 begins with "-": read such a word as the kid,
    // not as an unknown option.
    .allowUnknownOption()
    .action(async (ref: string, kid: string, o: { yes?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      const agentId = await resolveAgentId(client, ref);
      await confirm(`Revoke key ${kid} of agent ${ref}? Tokens can no longer be obtained with it.`, o.yes);
      const key = await client.agents.keys.revoke(agentId, kid);
      if (globals(cmd).json) printJson(key);
      else printFields(fields(key));
    });
}
