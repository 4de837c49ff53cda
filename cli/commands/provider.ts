/**
 * `certusordo provider install`: installs the Terraform provider into a local filesystem mirror
 * (no registry needed) and prints the Terraform CLI configuration. Same logic as
 * `npm run provider:install` (provider-bridge/src/install-cli.ts), loaded only when run.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { globals, group, printJson } from './common';

function semver(value: string): string {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(value)) throw new InvalidArgumentError('expected a semantic version x.y.z.');
  return value;
}

/**
 * From a clone the installer is part of the tree; the @certusordo/server package instead loads
 * it from @certusordo/terraform-provider (an optional peer), so the provider ships once.
 */
async function loadInstaller(): Promise<typeof import('../../provider-bridge/src/install-cli')> {
  try {
    return await import('../../provider-bridge/src/install-cli');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes('@certusordo/terraform-provider')) {
      throw new Error('the Terraform provider is a package of its own: npm install @certusordo/terraform-provider, then run this again');
    }
    throw err;
  }
}

export function register(program: Command): void {
  const provider = group(program, 'provider', 'The CertusOrdo Terraform provider');

  provider
    .command('install')
    .description('Install the Terraform provider into a filesystem mirror and print the Terraform CLI config')
    .option('--mirror <dir>', 'mirror root (default ~/.terraform.d/certusordo-mirror)')
    .option('--version <x.y.z>', "provider version (default: this package's version)", semver)
    .option('--write-config <file>', 'write the Terraform CLI config to this file instead of printing it (then TF_CLI_CONFIG_FILE=<file>)')
    .option('--dev-overrides', 'emit a dev_overrides config instead (no `terraform init`; init fails offline)')
    .addHelpText(
      'after',
      '\nExample (the canonical setup):\n  certusordo provider install --write-config ~/.terraform.d/certusordo.tfrc\n  export TF_CLI_CONFIG_FILE=~/.terraform.d/certusordo.tfrc\n  terraform init',
    )
    .action(async (o: { mirror?: string; version?: string; writeConfig?: string; devOverrides?: boolean }, cmd: Command) => {
      const { install, printInstallReport } = await loadInstaller();
      const report = install(o);
      if (globals(cmd).json) printJson(report);
      else printInstallReport(report);
    });
}
