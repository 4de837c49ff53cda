/**
 * Local installation for Terraform without a registry: writes the unpacked filesystem-mirror
 * layout `registry.terraform.io/certusordo/certusordo/VERSION/OS_ARCH/terraform-provider-certusordo_vVERSION`
 * holding a small wrapper that execs node on the provider, and returns the CLI config.
 *
 * The provider itself is copied into the mirror (`.certusordo-runtime/VERSION/`: the launcher and
 * the single-file bundle with its code cache), so moving or deleting the checkout or package it
 * came from does not break the workspaces that use it. It sits beside the registry tree, not in
 * the package directory: the `.terraform.lock.hcl` h1 hash covers that directory, so it holds only
 * the wrapper, whose content depends on nothing but VERSION and the runtime's path — reinstalling
 * a rebuilt provider keeps existing lock files valid.
 *
 * With terraform 1.11.4, dev_overrides alone make plan/apply work but `terraform init` fails
 * offline; the filesystem mirror makes init work offline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROVIDER_ADDRESS } from './address';

export interface InstallOptions {
  /** Root of the filesystem mirror (created if missing). */
  mirrorDir: string;
  /** Provider version, e.g. the package version `0.1.0`. */
  version: string;
  /** Built provider entry; defaults to this package's dist/provider-bridge/src/main.js. Its bundle is ../bundle/plugin.js. */
  mainJs?: string;
  /** Terraform platform; defaults to the current one (linux_amd64, darwin_arm64, …). */
  platform?: string;
}

export interface InstallResult {
  /** The wrapper Terraform executes. */
  executable: string;
  /** Directory holding the wrapper (what dev_overrides points at). */
  executableDir: string;
  /** The installed copy of the provider the wrapper runs. */
  runtimeDir: string;
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

/** Wrapper content: stable for a given version and runtime path, so lock-file hashes stay valid. */
export function wrapperScript(version: string, mainJs: string): string {
  return [
    '#!/bin/sh',
    `# terraform-provider-certusordo v${version}, installed by \`certusordo provider install\`.`,
    '# Do not edit: .terraform.lock.hcl records a hash of this file.',
    'node="${CERTUSORDO_NODE:-node}"',
    'if ! command -v "$node" >/dev/null 2>&1; then',
    '  echo "terraform-provider-certusordo: cannot run \\"$node\\": install Node.js >= 20.19, or set CERTUSORDO_NODE to its path" >&2',
    '  exit 1',
    'fi',
    `exec "$node" '${mainJs.replace(/'/g, `'\\''`)}' "$@"`,
    '',
  ].join('\n');
}

/** Copies `from` to `to` unless it already holds the same bytes (keeps mtimes, and so lock files, stable). */
function copyIfChanged(from: string, to: string): boolean {
  const bytes = fs.readFileSync(from);
  if (fs.existsSync(to) && fs.readFileSync(to).equals(bytes)) return false;
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = `${to}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, to); // atomic: a provider may be launching from the old copy right now
  return true;
}

/**
 * Copies the launcher and the bundle (with its code cache) into `runtimeDir`, keeping the
 * src/ + bundle/ layout the launcher expects. The bundle ends up newer than the launcher, or
 * the launcher would take it for stale and look for the module tree, which is not copied.
 */
function installRuntime(mainJs: string, runtimeDir: string): string {
  const bundleDir = path.join(path.dirname(mainJs), '..', 'bundle');
  const bundle = path.join(bundleDir, 'plugin.js');
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} does not exist; run \`npm run build\` first (the provider is installed as its single-file bundle)`);
  const runtimeMain = path.join(runtimeDir, 'src', 'main.js');
  const runtimeBundle = path.join(runtimeDir, 'bundle', 'plugin.js');
  copyIfChanged(mainJs, runtimeMain);
  copyIfChanged(bundle, runtimeBundle);
  const caches = fs.readdirSync(bundleDir).filter((f) => f.startsWith('plugin.js.') && f.endsWith('.cache'));
  for (const f of caches) copyIfChanged(path.join(bundleDir, f), path.join(runtimeDir, 'bundle', f));
  for (const f of fs.readdirSync(path.dirname(runtimeBundle))) {
    if (f.endsWith('.cache') && !caches.includes(f)) fs.rmSync(path.join(path.dirname(runtimeBundle), f), { force: true });
  }
  const mainTime = fs.statSync(runtimeMain).mtime;
  if (fs.statSync(runtimeBundle).mtime <= mainTime) {
    const later = new Date(mainTime.getTime() + 1000);
    fs.utimesSync(runtimeBundle, later, later);
  }
  return runtimeMain;
}

function hclString(s: string): string {
  return JSON.stringify(s);
}

export function installProvider(opts: InstallOptions): InstallResult {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(opts.version)) throw new Error(`version "${opts.version}" is not a semantic version (x.y.z)`);
  const mirrorDir = path.resolve(opts.mirrorDir);
  const mainJs = path.resolve(opts.mainJs ?? defaultMainJs());
  if (!fs.existsSync(mainJs)) throw new Error(`${mainJs} does not exist; run \`npm run build\` first`);
  const runtimeDir = path.join(mirrorDir, '.certusordo-runtime', opts.version);
  const runtimeMain = installRuntime(mainJs, runtimeDir);
  const executableDir = path.join(mirrorDir, PROVIDER_ADDRESS, opts.version, opts.platform ?? terraformPlatform());
  const executable = path.join(executableDir, `terraform-provider-certusordo_v${opts.version}`);
  fs.mkdirSync(executableDir, { recursive: true });
  const content = wrapperScript(opts.version, runtimeMain);
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
  return { executable, executableDir, runtimeDir, cliConfig, devOverridesConfig };
}
