/** `certusordo api-keys …`: the organization's admin API keys, over the API (via the SDK). */
import type { Command } from 'commander';
import type { ApiKey } from '../../sdk/src';
import { API_KEY_ROLE_RULE, API_KEY_ROLES, isApiKeyRole } from '../../model/roles';
import { clientFor, confirm, formatDate, globals, group, printFields, printJson, printTable, UsageError } from './common';

export const DESCRIPTION = "Manage the organization's API keys";

function fields(k: ApiKey): Array<[string, string]> {
  return [
    ['ID', k.id],
    ['Name', k.name],
    ['Role', k.role],
    ['Prefix', k.prefix],
    ['Created', formatDate(k.createdAt)],
    ['Last used', k.lastUsedAt ? formatDate(k.lastUsedAt) : 'never'],
    ['Revoked', k.revokedAt ? formatDate(k.revokedAt) : '-'],
  ];
}

export function register(program: Command): void {
  const apiKeys = group(program, 'api-keys', DESCRIPTION);

  apiKeys
    .command('create')
    .description('Create an API key; prints the key once')
    .requiredOption('--name <name>', 'what the key is for')
    .requiredOption('--role <role>', `one of ${API_KEY_ROLES.join(', ')} (${API_KEY_ROLE_RULE})`)
    .action(async (o: { name: string; role: string }, cmd: Command) => {
      if (!isApiKeyRole(o.role)) throw new UsageError(`--role must be one of ${API_KEY_ROLES.join(', ')}`);
      const key = await clientFor(cmd).apiKeys.create({ name: o.name, role: o.role });
      if (globals(cmd).json) printJson(key);
      else printFields([...fields(key), ['Key', key.key]]);
      process.stderr.write('\nWARNING: store the key now. It is shown only this once and cannot be retrieved later.\n');
    });

  apiKeys
    .command('list')
    .description('List API keys (never shows the keys themselves)')
    .action(async (_o: object, cmd: Command) => {
      const keys = await clientFor(cmd).apiKeys.list();
      if (globals(cmd).json) return printJson(keys);
      printTable(
        ['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'],
        keys.map((k) => [k.id, k.name, k.role, k.prefix, formatDate(k.createdAt), formatDate(k.lastUsedAt), formatDate(k.revokedAt)]),
      );
    });

  apiKeys
    .command('revoke')
    .description('Revoke an API key (permanent)')
    .argument('<id>', 'API key id')
    .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
    .action(async (id: string, o: { yes?: boolean }, cmd: Command) => {
      await confirm(`Revoke API key ${id}? Programs using it will stop working.`, o.yes);
      const key = await clientFor(cmd).apiKeys.revoke(id);
      if (globals(cmd).json) printJson(key);
      else printFields(fields(key));
    });
}
