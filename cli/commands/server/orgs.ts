/**
 * `--json` is the program's global flag (read with optsWithGlobals).
 * `certusordo orgs create` and `certusordo api-keys create --local`: bootstrap commands that work
 * on the database directly (no server, no API key needed), so nobody has to read a log.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../../api/src/config';
import type { Database } from '../../../api/src/db/connect';
import { openStore } from '../../../api/src/db/open-store';
import { createServices, Services } from '../../../api/src/services';
import { systemContext } from '../../../api/src/services/organizations';
import { API_KEY_ROLE_RULE, API_KEY_ROLES, isApiKeyRole } from '../../../model/roles';
import { StoreFlags, storeOverrides, withStoreOptions } from './serve';

async function withServices<T>(o: StoreFlags, fn: (s: Services, db: Database) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env, storeOverrides(o));
  // Refuses a master key the database was not sealed with, and never makes a new key file for a
  // database that already has one (its keys would not work on the server).
  const { db, keys } = await openStore(config, 'require');
  try {
    return await fn(createServices(db.knex, keys), db);
  } finally {
    await db.close();
  }
}

export function register(program: Command): void {
  const orgs = program.command('orgs').description('Manage organizations (direct database access)');
  withStoreOptions(
    orgs
      .command('create')
      .description('Create an organization and its first admin API key')
      .argument('<name>', 'organization name'),
  ).action(async (name: string, o: StoreFlags, cmd: Command) => {
    const out = await withServices(o, async (s) => {
      const org = await s.organizations.createOrganization(name);
      const key = await s.organizations.createApiKey(systemContext(org.id), { name: 'initial admin', role: 'admin' });
      return { organization: org, api_key: key };
    });
    if (cmd.optsWithGlobals().json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else process.stdout.write(`Organization ${out.organization.id} (${name}) created.\nAdmin API key (shown only now):\nCERTUSORDO_API_KEY=${out.api_key.key}\n`);
  });
}

/** Adds `--local` creation to the `api-keys` command group (the remote commands use the SDK). */
export function registerLocalApiKeyCreate(apiKeys: Command): void {
  withStoreOptions(
    apiKeys
      .command('create-local')
      .description('Create an API key directly in the database (bootstrap; no server or key needed)')
      .requiredOption('--org <id>', 'organization id')
      .option('--name <name>', 'what the key is for', 'cli')
      .requiredOption('--role <role>', `one of ${API_KEY_ROLES.join(', ')} (${API_KEY_ROLE_RULE})`),
  ).action(async (o: StoreFlags & { org: string; name: string; role: string }, cmd: Command) => {
    const role = o.role;
    if (!isApiKeyRole(role)) throw new Error(`--role must be one of ${API_KEY_ROLES.join(', ')}`);
    const key = await withServices(o, async (s) => {
      if (!(await s.organizations.organizationExists(o.org))) throw new Error(`No organization ${o.org}`);
      return s.organizations.createApiKey(systemContext(o.org), { name: o.name, role });
    });
    if (cmd.optsWithGlobals().json) process.stdout.write(JSON.stringify(key, null, 2) + '\n');
    else process.stdout.write(`API key ${key.id} (${key.role}) created (shown only now):\nCERTUSORDO_API_KEY=${key.key}\n`);
  });
}
