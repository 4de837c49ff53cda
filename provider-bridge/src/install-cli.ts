/**
 * `npm run provider:install -- [--mirror DIR] [--version X.Y.Z] [--write-config FILE] [--dev-overrides]`
 * Installs the provider into a filesystem mirror and prints (or writes) the Terraform CLI config.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installProvider } from './install';

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) {
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if ((pkg.name === 'certusordo' || pkg.name === '@certusordo/terraform-provider') && pkg.version) return pkg.version;
    }
  }
  return '0.0.0';
}

/** Options of `certusordo provider install` and of `npm run provider:install`. */
export interface InstallCliOptions {
  /** Mirror root (default ~/.terraform.d/certusordo-mirror). */
  mirror?: string | undefined;
  /** Provider version (default: this package's version). */
  version?: string | undefined;
  /** Write the Terraform CLI configuration to this file instead of printing it. */
  writeConfig?: string | undefined;
  /** Emit the dev_overrides configuration instead of the filesystem mirror one. */
  devOverrides?: boolean | undefined;
}

export interface InstallReport {
  version: string;
  mirrorDir: string;
  executable: string;
  /** The Terraform CLI configuration chosen (filesystem mirror, or dev_overrides). */
  config: string;
  /** Where the configuration was written, when `writeConfig` was given. */
  configFile: string | null;
}

/** Installs the provider into the mirror and writes the config file if asked; prints nothing. */
export function install(o: InstallCliOptions): InstallReport {
  const mirrorDir = path.resolve(o.mirror ?? path.join(os.homedir(), '.terraform.d', 'certusordo-mirror'));
  const version = o.version ?? packageVersion();
  const result = installProvider({ mirrorDir, version });
  const config = o.devOverrides ? result.devOverridesConfig : result.cliConfig;
  if (o.writeConfig) {
    fs.mkdirSync(path.dirname(path.resolve(o.writeConfig)), { recursive: true });
    fs.writeFileSync(o.writeConfig, config);
  }
  return { version, mirrorDir, executable: result.executable, config, configFile: o.writeConfig ?? null };
}

/** The human output: notes on stderr, the configuration on stdout unless it was written to a file. */
export function printInstallReport(r: InstallReport): void {
  process.stderr.write(`Installed terraform-provider-certusordo v${r.version} at ${r.executable}\n`);
  if (r.configFile) {
    process.stderr.write(
      `Wrote the Terraform CLI configuration to ${r.configFile}. In each shell that runs terraform:\n\n` +
        `  export TF_CLI_CONFIG_FILE=${r.configFile}\n\n` +
        'Then `terraform init` installs the provider from the mirror, offline. Its warning "Incomplete lock file\n' +
        'information for providers" is expected: the lock file records the checksum of this machine\'s platform only.\n',
    );
  } else {
    process.stderr.write(
      'The Terraform CLI configuration follows. Save it and point TF_CLI_CONFIG_FILE at it, or let this command\n' +
        'do both: `certusordo provider install --write-config ~/.terraform.d/certusordo.tfrc`, then\n' +
        '`export TF_CLI_CONFIG_FILE=~/.terraform.d/certusordo.tfrc`.\n\n',
    );
    process.stdout.write(r.config);
  }
}

export function runInstallCli(argv: string[]): number {
  printInstallReport(
    install({
      mirror: arg(argv, '--mirror'),
      version: arg(argv, '--version'),
      writeConfig: arg(argv, '--write-config'),
      devOverrides: argv.includes('--dev-overrides'),
    }),
  );
  return 0;
}

const USAGE = 'usage: certusordo-provider install [--mirror DIR] [--write-config FILE] [--version X.Y.Z] [--dev-overrides]\n';

/** `certusordo-provider <command>`, the @certusordo/terraform-provider package's command; returns the exit code. */
export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command !== 'install') {
    process.stderr.write(`certusordo-provider: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  try {
    return runInstallCli(rest);
  } catch (err) {
    process.stderr.write(`provider install failed: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  try {
    process.exitCode = runInstallCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`provider install failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
