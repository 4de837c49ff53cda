/**
 * The `certusordo` command. Commands live in modules that each export `register(program)`;
 * this file only builds the program, registers the modules, and maps errors to exit codes
 * (see cli/README.md).
 */
import { Command } from 'commander';
import { SDK_VERSION } from '../sdk/src/internal/transport';
import { group, reportError } from './commands/common';

// ── Remote commands (through the SDK) ───────────────────────────────────────────────────────
import * as agents from './commands/agents';
import * as apiKeys from './commands/api-keys';
import * as audit from './commands/audit';

// ── Server-side commands (API engineer: append your modules here) ──────────────────────────
import * as serve from './commands/server/serve';
import * as orgs from './commands/server/orgs';
// ── end of server-side imports ─────────────────────────────────────────────────────────────

/** Each module adds its commands to the program. Order is the order of `--help`. */
const COMMAND_MODULES: Array<{ register(program: Command): void }> = [
  agents,
  apiKeys,
  audit,
  // server-side modules:
  serve,
  orgs,
];

export function buildProgram(): Command {
  const program = new Command('certusordo')
    .description('CertusOrdo: cryptographic identities for AI agents')
    .version(SDK_VERSION)
    .option('--endpoint <url>', 'control plane URL (env CERTUSORDO_ENDPOINT, default http://localhost:8080)')
    .option('--api-key <key>', 'organization API key (env CERTUSORDO_API_KEY; prefer the env variable: flags show up in `ps`)')
    .option('--json', 'machine-readable JSON output (errors as JSON on stderr)')
    .showHelpAfterError('(add --help for usage)')
    // Throw instead of exiting, so usage errors get exit code 2 (set before adding subcommands: they inherit it).
    .exitOverride()
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 authentication/permission, 5 conflict, 6 validation, 7 network.',
    );
  for (const m of COMMAND_MODULES) m.register(program);
  // `api-keys create-local` (server side) joins the remote `api-keys` group.
  orgs.registerLocalApiKeyCreate(group(program, 'api-keys', "Manage the organization's API keys"));
  return program;
}

/** Runs the CLI; resolves with the exit code (also set on `process.exitCode`, never `process.exit`, so output flushes). */
export async function run(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  let code: number;
  try {
    await program.parseAsync(argv);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const json = argv.includes('--json');
    code = reportError(err, json);
  }
  process.exitCode = code;
  return code;
}

if (require.main === module) void run();
