/**
 * The `certusordo` command. Commands live in modules that each export `register(program)`;
 * this file only builds the program, registers the modules, and maps errors to exit codes
 * (see cli/README.md).
 */
import { Command } from 'commander';
import { VERSION } from '../sdk/src';
import { group, reportError } from './commands/common';

// ── Remote commands (through the SDK) ───────────────────────────────────────────────────────
import * as agents from './commands/agents';
import * as agentKeys from './commands/agent-keys';
import * as agentFederatedCredentials from './commands/agent-federated-credentials';
import * as apiKeys from './commands/api-keys';
import * as audit from './commands/audit';
import * as sessions from './commands/sessions';
import * as provider from './commands/provider';

// ── Server-side commands (API engineer: append your modules to this list) ───────────────────
// Loaded only when the command line may need them: they pull in the whole control plane, which
// would otherwise slow every remote command's start.
const serverModules = async (): Promise<CommandModule[]> => {
  const serve = await import('./commands/server/serve');
  const orgs = await import('./commands/server/orgs');
  return [
    serve,
    orgs,
    // `api-keys create-local` joins the remote `api-keys` group.
    { register: (program) => orgs.registerLocalApiKeyCreate(group(program, 'api-keys', apiKeys.DESCRIPTION)) },
  ];
};
// ── end of server-side commands ─────────────────────────────────────────────────────────────

interface CommandModule {
  register(program: Command): void;
}

/** Remote modules, in `--help` order. */
const REMOTE_MODULES: CommandModule[] = [agents, agentKeys, agentFederatedCredentials, apiKeys, audit, sessions, provider];

/**
 * True unless argv is a remote command (`agents …`, `audit …`, `sessions …`, `provider …`,
 * `api-keys create|list|revoke …`),
 * which never needs the server-side modules.
 */
export function needsServerModules(argv: string[]): boolean {
  const [area, sub] = commandWords(argv);
  if (area === 'agents' || area === 'audit' || area === 'sessions' || area === 'provider') return false;
  if (area === 'api-keys') return !(sub === 'create' || sub === 'list' || sub === 'revoke');
  return true;
}

/** The words of the command line that are not options (nor the values of the global options). */
function commandWords(argv: string[]): string[] {
  const args = argv.slice(2);
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--endpoint' || a === '--api-key') i++; // skip the option's value
    else if (!a.startsWith('-')) words.push(a);
  }
  return words;
}

/**
 * The version flag is matched as a whole word, not registered with commander: commander reads
 * program options anywhere on the line and splits `-VQx` into flags, but `-VQx` may be a key id
 * (base64url), and `provider install --version X` is the provider's own version.
 */
function wantsVersion(argv: string[]): boolean {
  const args = argv.slice(2);
  return args.includes('-V') || (commandWords(argv)[0] !== 'provider' && args.includes('--version'));
}

export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('certusordo')
    .description('CertusOrdo: cryptographic identities for AI agents')
    .option('--endpoint <url>', 'control plane URL (env CERTUSORDO_ENDPOINT, default http://127.0.0.1:8080)')
    .option('--api-key <key>', 'organization API key (env CERTUSORDO_API_KEY; prefer the env variable: flags show up in `ps`)')
    .option('--json', 'machine-readable JSON output (errors as JSON on stderr)')
    .showHelpAfterError('(add --help for usage)')
    // Throw instead of exiting, so usage errors get exit code 2 (set before adding subcommands: they inherit it).
    .exitOverride()
    .addHelpText(
      'after',
      '\n-V, --version prints the version.\nExit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 authentication/permission, 5 conflict, 6 validation, 7 network.',
    );
  const modules = needsServerModules(argv) ? [...REMOTE_MODULES, ...(await serverModules())] : REMOTE_MODULES;
  for (const m of modules) m.register(program);
  return program;
}

/**
 * `certusordo audit list | head` closes the pipe before the CLI is done writing: that is the reader
 * saying it has enough, not a failure, so the CLI ends quietly (as `cat` and `ls` do) instead of
 * printing an EPIPE stack trace.
 */
let brokenPipeHandled = false;
function exitQuietlyOnBrokenPipe(): void {
  if (brokenPipeHandled) return;
  brokenPipeHandled = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

/** Runs the CLI; resolves with the exit code (also set on `process.exitCode`, never `process.exit`, so output flushes). */
export async function run(argv: string[] = process.argv): Promise<number> {
  exitQuietlyOnBrokenPipe();
  if (wantsVersion(argv)) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  let code: number;
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const json = argv.includes('--json');
    code = reportError(err, json);
  }
  process.exitCode = code;
  return code;
}

/**
 * A failed command must end its process: a start that failed part-way may leave a handle open (a
 * connection attempt, a timer), and a process that neither serves nor exits is the worst outcome
 * for a supervisor. The error is already on stderr; the exit code is already set.
 */
const FAILED_EXIT_GRACE_MS = 500;

/** Runs the command line of this process, and ends the process if the command failed. */
export function main(): void {
  void run().then((code) => {
    if (code !== 0) setTimeout(() => process.exit(code), FAILED_EXIT_GRACE_MS).unref();
  });
}

if (require.main === module) main();
