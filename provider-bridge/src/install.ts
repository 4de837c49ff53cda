/**
 * Local installation for Terraform without a registry: writes the unpacked filesystem-mirror
 * layout `registry.terraform.io/certusordo/certusordo/VERSION/OS_ARCH/terraform-provider-certusordo_vVERSION`
 * holding a small wrapper that execs node on the built provider, and returns the CLI config.
 *
 * Measured with terraform 1.11.4: dev_overrides alone make plan/apply work but `terraform init`
 * fails offline; the filesystem mirror makes init work offline. The `.terraform.lock.hcl` h1
 * hash covers the wrapper file, so its content depends only on VERSION and the main.js path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROVIDER_ADDRESS } from './provider';

export interface InstallOptions {
  /** Root of the filesystem mirror (created if missing). */
  mirrorDir: string;
  /** Provider version, e.g. the package version `0.1.0`. */
  version: string;
  /** Built provider entry; defaults to this package's dist/provider-bridge/src/main.js. */
  mainJs?: string;
  /** Terraform platform; defaults to the current one (linux_amd64, darwin_arm64, …). */
  platform?: string;
}

export interface InstallResult {
  /** The wrapper Terraform executes. */
  executable: string;
  /** Directory holding the wrapper (what dev_overrides points at). */
  executableDir: string;
  /** CLI configuration using the filesystem mirror (run `terraform init`). */
  cliConfig: string;
  /** Alternative CLI configuration using dev_overrides (no init; init fails offline). */
  devOverridesConfig: string;
}

export function terraformPlatform(platform: string = process.platform, arch: string = process.arch): string {
  const os = platform === 'win32' ? 'windows' : platform;
  const cpu = arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
  return `${os}_${cpu}`;
}

export function defaultMainJs(): string {
  // This file compiles to dist/provider-bridge/src/install.js, next to main.js.
  return path.join(__dirname, 'main.js');
}

/** Wrapper content: stable for a given version and path, so lock-file hashes stay valid. */
export function wrapperScript(version: string, mainJs: string): string {
  return [
    '#!/bin/sh',
    `# terraform-provider-certusordo v${version}, installed by \`certusordo provider install\`.`,
    '# Do not edit: .terraform.lock.hcl records a hash of this file.',
    `exec "\${CERTUSORDO_NODE:-node}" '${mainJs.replace(/'/g, `'\\''`)}' "$@"`,
    '',
  ].join('\n');
}

function hclString(s: string): string {
  return JSON.stringify(s);
}

export function installProvider(opts: InstallOptions): InstallResult {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(opts.version)) throw new Error(`version "${opts.version}" is not a semantic version (x.y.z)`);
  const mirrorDir = path.resolve(opts.mirrorDir);
  const mainJs = path.resolve(opts.mainJs ?? defaultMainJs());
  if (!fs.existsSync(mainJs)) throw new Error(`${mainJs} does not exist; run \`npm run build\` first`);
  const executableDir = path.join(mirrorDir, PROVIDER_ADDRESS, opts.version, opts.platform ?? terraformPlatform());
  const executable = path.join(executableDir, `terraform-provider-certusordo_v${opts.version}`);
  fs.mkdirSync(executableDir, { recursive: true });
  const content = wrapperScript(opts.version, mainJs);
  // Rewrite only on change: an identical file keeps existing lock files valid and mtime stable.
  if (!fs.existsSync(executable) || fs.readFileSync(executable, 'utf8') !== content) fs.writeFileSync(executable, content);
  fs.chmodSync(executable, 0o755);

  const ns = 'registry.terraform.io/certusordo/*';
  const cliConfig = [
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = ${hclString(mirrorDir)}`,
    `    include = [${hclString(ns)}]`,
    '  }',
    '  direct {',
    `    exclude = [${hclString(ns)}]`,
    '  }',
    '}',
    '',
  ].join('\n');
  const devOverridesConfig = [
    'provider_installation {',
    '  dev_overrides {',
    `    ${hclString(PROVIDER_ADDRESS)} = ${hclString(executableDir)}`,
    '  }',
    '  direct {}',
    '}',
    '',
  ].join('\n');
  return { executable, executableDir, cliConfig, devOverridesConfig };
}
