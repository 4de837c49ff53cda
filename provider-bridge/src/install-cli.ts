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
      if (pkg.name === 'certusordo' && pkg.version) return pkg.version;
    }
  }
  return '0.0.0';
}

export function runInstallCli(argv: string[]): number {
  const mirrorDir = arg(argv, '--mirror') ?? path.join(os.homedir(), '.terraform.d', 'certusordo-mirror');
  const version = arg(argv, '--version') ?? packageVersion();
  const result = installProvider({ mirrorDir, version });
  const text = argv.includes('--dev-overrides') ? result.devOverridesConfig : result.cliConfig;
  const out = arg(argv, '--write-config');
  process.stderr.write(`Installed terraform-provider-certusordo v${version} at ${result.executable}\n`);
  if (out) {
    fs.writeFileSync(out, text);
    process.stderr.write(`Wrote Terraform CLI configuration to ${out}; use it with TF_CLI_CONFIG_FILE=${out}\n`);
  } else {
    process.stderr.write('Add this to ~/.terraformrc (or a file named by TF_CLI_CONFIG_FILE), then run `terraform init`:\n\n');
    process.stdout.write(text);
  }
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = runInstallCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`provider install failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
