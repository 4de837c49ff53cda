/**
 * Acceptance-test harness: the real `terraform` binary against the built provider, installed
 * into a per-run filesystem mirror, each workspace in its own temp dir with its own CLI config.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installProvider } from '../../../provider-bridge/src/install';
import { ensureBuilt } from '../../support/build';

export const ROOT = path.resolve(__dirname, '../../..');
export const MAIN_JS = path.join(ROOT, 'dist/provider-bridge/src/main.js');

export function findTerraform(): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, 'terraform');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return null;
}

/**
 * `describe` when terraform is installed; otherwise a loud warning and `describe.skip`.
 * In CI a missing terraform is a failure, not a skip.
 */
export function describeWithTerraform(name: string, fn: () => void): void {
  if (findTerraform()) return describe(name, fn);
  if (process.env.CI) {
    describe(name, () => {
      it('requires terraform on PATH in CI', () => {
        throw new Error('terraform is not on PATH, but CI is set: acceptance tests must run in CI');
      });
    });
    return;
  }
  console.warn(`\n\n!!! terraform not found on PATH: SKIPPING provider acceptance tests "${name}" !!!\n\n`);
  describe.skip(name, fn);
}

/** Compiles the project (incrementally) when the sources are newer than dist. */
export function ensureProviderBuilt(): void {
  ensureBuilt();
}

export interface TfResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for greps. */
  all: string;
}

export interface WorkspaceOptions {
  endpoint: string;
  apiKey: string;
  version?: string;
}

/** Installs the provider into a fresh mirror and returns a CLI config path using it. */
export function installForTests(root: string, version = '0.1.0'): string {
  const res = installProvider({ mirrorDir: path.join(root, 'mirror'), version, mainJs: MAIN_JS });
  const cfg = path.join(root, 'terraformrc');
  fs.writeFileSync(cfg, res.cliConfig);
  return cfg;
}

export class TfWorkspace {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(
    cliConfig: string,
    opts: WorkspaceOptions,
    extraEnv: Record<string, string> = {},
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-tf-'));
    this.env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      TF_CLI_CONFIG_FILE: cliConfig,
      CHECKPOINT_DISABLE: '1',
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CERTUSORDO_ENDPOINT: opts.endpoint,
      CERTUSORDO_API_KEY: opts.apiKey,
      ...extraEnv,
    };
  }

  write(files: Record<string, string>): void {
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(this.dir, name), content);
  }

  run(args: string[], env: Record<string, string | undefined> = {}): Promise<TfResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('terraform', [...args], { cwd: this.dir, env: { ...this.env, ...env } as NodeJS.ProcessEnv });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, all: stdout + stderr }));
    });
  }

  /** Runs and fails with the full output when the exit code is not one of `ok`. */
  async must(args: string[], ok: number[] = [0], env: Record<string, string | undefined> = {}): Promise<TfResult> {
    const res = await this.run(args, env);
    if (!ok.includes(res.code)) {
      throw new Error(`terraform ${args.join(' ')} exited ${res.code}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`);
    }
    return res;
  }

  state(): { resources: Array<{ type: string; name: string; mode: string; instances: Array<{ attributes: Record<string, unknown>; index_key?: unknown }> }> } {
    return JSON.parse(fs.readFileSync(path.join(this.dir, 'terraform.tfstate'), 'utf8'));
  }

  /** The attributes of the managed resource `type.name` in the state (its first instance), if any. */
  managed(type: string, name: string): Record<string, unknown> | undefined {
    return this.state().resources.find((r) => r.mode === 'managed' && r.type === type && r.name === name)?.instances[0]?.attributes;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Lines Terraform prints when a provider breaks the protocol's consistency rules. */
export const PROTOCOL_VIOLATIONS = /Provider produced inconsistent|Provider produced invalid|invalid result object|inconsistent final plan/;

export const TERRAFORM_BLOCK = `terraform {
  required_providers {
    certusordo = {
      source  = "registry.terraform.io/certusordo/certusordo"
      version = "0.1.0"
    }
  }
}
`;

/** Provider settings come from CERTUSORDO_ENDPOINT / CERTUSORDO_API_KEY in the workspace env. */
export const PROVIDER_BLOCK = `${TERRAFORM_BLOCK}
provider "certusordo" {}
`;
