/**
 * Provider benchmark: `terraform apply` of 500 certusordo_agent resources next to 500 built-in
 * terraform_data resources (same machine, same run, default -parallelism=10), then a plan with
 * nothing changed. Target: agents apply ≤ 2× terraform_data. A third apply, terraform_data padded
 * to the agents' state-file size, separates terraform's own cost of a larger state from what the
 * provider and the control plane add.
 *
 *   npm run build && npm run bench:provider            # control plane from dist/api on a disposable PostgreSQL (BENCH_BACKEND=pglite: embedded)
 *   CERTUSORDO_ENDPOINT=… CERTUSORDO_API_KEY=… npm run bench:provider   # or use a running one
 *   BENCH_COUNT=200 BENCH_ROUNDS=1 npm run bench:provider
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installProvider } from '../provider-bridge/src/install';
import { RestClient } from '../provider-bridge/src/client/rest-client';

/** Runs `fn` for 0..n-1 with `concurrency` workers; returns seconds. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < n) await fn(next++); }));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const ROOT = path.resolve(__dirname, '../..');
const COUNT = Number(process.env.BENCH_COUNT ?? 500);

interface ControlPlane {
  url: string;
  apiKey: string;
  close(): Promise<void>;
}

/**
 * Uses CERTUSORDO_ENDPOINT/API_KEY, or starts the built control plane (dist/api) on a disposable
 * PostgreSQL (dist/bench/support/postgres.js), or on PGlite with BENCH_BACKEND=pglite.
 */
async function controlPlane(): Promise<ControlPlane & { backend: string }> {
  if (process.env.CERTUSORDO_ENDPOINT && process.env.CERTUSORDO_API_KEY) {
    return { url: process.env.CERTUSORDO_ENDPOINT, apiKey: process.env.CERTUSORDO_API_KEY, backend: 'external', close: async () => {} };
  }
  // Loaded by path so that building the provider does not compile the API.
  const api = path.join(ROOT, 'dist/api/src');
  if (!fs.existsSync(path.join(api, 'server.js'))) throw new Error('dist/api not built: run `npm run build`, or set CERTUSORDO_ENDPOINT and CERTUSORDO_API_KEY');
  const { loadConfig } = require(path.join(api, 'config.js'));
  const { startServer } = require(path.join(api, 'server.js'));
  const { createLogger } = require(path.join(api, 'logger.js'));
  const backend = process.env.BENCH_BACKEND ?? 'postgres';
  const pg = backend === 'postgres' ? await require(path.join(ROOT, 'dist/bench/support/postgres.js')).startPostgres() : null;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-bench-db-'));
  const config = loadConfig(
    { LOG_LEVEL: 'silent', CERTUSORDO_RATE_LIMIT: '100000' },
    {
      PORT: 0,
      HOST: '127.0.0.1',
      DATABASE_URL: pg ? pg.url('postgres') : undefined,
      CERTUSORDO_DATA_DIR: dataDir,
      CERTUSORDO_MASTER_KEY: randomBytes(32).toString('base64url'),
    },
  );
  const running = await startServer(config, { logger: createLogger('silent') });
  return {
    url: running.url,
    apiKey: running.bootstrap.apiKey,
    backend,
    close: async () => {
      await running.close();
      await pg?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function terraform(cwd: string, env: NodeJS.ProcessEnv, args: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn('terraform', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        return reject(new Error(`terraform ${args.join(' ')} exited ${code}\n${out.slice(-4000)}`));
      }
      if (/Provider produced (inconsistent|invalid)/.test(out)) return reject(new Error(`protocol violation:\n${out.slice(-4000)}`));
      resolve(Number(process.hrtime.bigint() - started) / 1e9);
    });
  });
}

const TERRAFORM_BLOCK = `terraform {
  required_providers {
    certusordo = { source = "registry.terraform.io/certusordo/certusordo", version = "0.1.0" }
  }
}
provider "certusordo" {}
`;

async function main(): Promise<void> {
  const cp = await controlPlane();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-bench-'));
  try {
    const install = installProvider({ mirrorDir: path.join(work, 'mirror'), version: '0.1.0', mainJs: path.join(ROOT, 'dist/provider-bridge/src/main.js') });
    fs.writeFileSync(path.join(work, 'terraformrc'), install.cliConfig);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TF_CLI_CONFIG_FILE: path.join(work, 'terraformrc'),
      CHECKPOINT_DISABLE: '1',
      TF_IN_AUTOMATION: '1',
      CERTUSORDO_ENDPOINT: cp.url,
      CERTUSORDO_API_KEY: cp.apiKey,
    };
    const run = tag(`bench-${Date.now().toString(36)}`);
    const dirs = { data: path.join(work, 'data'), agents: path.join(work, 'agents'), sized: path.join(work, 'sized') };
    for (const d of Object.values(dirs)) fs.mkdirSync(d);
    fs.writeFileSync(path.join(dirs.data, 'main.tf'), dataConfig('d', ''));
    fs.writeFileSync(
      path.join(dirs.agents, 'main.tf'),
      `${TERRAFORM_BLOCK}\nvariable "round" {\n  type = string\n}\nresource "certusordo_agent" "a" {\n  count    = ${COUNT}\n  name     = "${run}-\${var.round}-\${count.index}"\n  scopes   = ["bench:read"]\n  metadata = { index = tostring(count.index) }\n}\n`,
    );
    for (const d of [dirs.data, dirs.agents]) await terraform(d, env, ['init', '-no-color']);
    const client = new RestClient({ endpoint: cp.url, apiKey: cp.apiKey });

    // Interleaved rounds of fresh applies, so that a noisy neighbour hits all three alike; the
    // ratio of each round is reported and the median is the figure.
    const rounds: { data: number; agents: number; sized: number }[] = [];
    const bytes = { data: 0, agents: 0, sized: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const last = r === ROUNDS - 1;
      const data = await freshApply(dirs.data, env, []);
      const agents = await freshApply(dirs.agents, env, ['-var', `round=${r}`]);
      if (r === 0) {
        // Control: terraform_data padded to the agents' state size. The local backend rewrites
        // the whole state file after every resource (O(n^2) bytes), so size alone costs time.
        bytes.data = stateBytesPerInstance(dirs.data);
        bytes.agents = stateBytesPerInstance(dirs.agents);
        const pad = 'x'.repeat(Math.max(0, Math.round((bytes.agents - bytes.data) / 2))); // input and output both hold it
        fs.writeFileSync(path.join(dirs.sized, 'main.tf'), dataConfig('s', `-${pad}`));
        await terraform(dirs.sized, env, ['init', '-no-color']);
      }
      const sized = await freshApply(dirs.sized, env, []);
      if (r === 0) bytes.sized = stateBytesPerInstance(dirs.sized);
      rounds.push({ data, agents, sized });
      if (!last) {
        const created = stateIds(dirs.agents);
        await pool(created.length, 10, (i) => client.revokeAgent(created[i]!)); // the next round creates anew
      }
    }

    const results: Record<string, number> = {
      terraform_data_apply: median(rounds.map((x) => x.data)),
      agents_apply: median(rounds.map((x) => x.agents)),
      terraform_data_sized_apply: median(rounds.map((x) => x.sized)),
    };
    results.terraform_data_plan_nochange = await terraform(dirs.data, env, ['plan', '-no-color', '-detailed-exitcode']);
    results.agents_plan_nochange = await terraform(dirs.agents, env, ['plan', '-no-color', '-detailed-exitcode', '-var', `round=${ROUNDS - 1}`]);
    results.terraform_data_destroy = await terraform(dirs.data, env, ['destroy', '-auto-approve', '-no-color']);
    results.agents_destroy = await terraform(dirs.agents, env, ['destroy', '-auto-approve', '-no-color', '-var', `round=${ROUNDS - 1}`]);

    // The control plane's share: the same REST calls without terraform, same concurrency (10).
    const ids: string[] = [];
    results.rest_floor_create = await pool(COUNT, 10, async (i) => ids.push((await client.createAgent({ name: `${run}-raw-${i}`, scopes: ['bench:read'], metadata: { index: String(i) } })).id));
    results.rest_floor_get = await pool(COUNT, 10, (i) => client.getAgent(ids[i]!));
    results.rest_floor_revoke = await pool(COUNT, 10, (i) => client.revokeAgent(ids[i]!));

    const ratios = rounds.map((x) => x.agents / x.data);
    const ratio = median(ratios);
    const lines = [
      `terraform ${COUNT} resources, -parallelism=10 (default), ${ROUNDS} interleaved apply rounds (medians), control plane on ${cp.backend}, node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}`,
      ...rounds.map((x, i) => `  round ${i + 1}: terraform_data ${x.data.toFixed(2)} s, agents ${x.agents.toFixed(2)} s, sized control ${x.sized.toFixed(2)} s -> ${(x.agents / x.data).toFixed(2)}x`),
      ...Object.entries(results).map(([k, v]) => `  ${k.padEnd(30)} ${v.toFixed(2)} s`),
      `  apply ratio agents/terraform_data  ${ratio.toFixed(2)}x median, ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x (target <= 2x) ${ratio <= 2 ? 'OK' : 'OVER TARGET'}`,
      `  state file bytes per instance      terraform_data ${bytes.data}, agents ${bytes.agents}, sized control ${bytes.sized}`,
      `  apply ratio agents/sized control   ${median(rounds.map((x) => x.agents / x.sized)).toFixed(2)}x (same state size: what the provider and control plane add)`,
      `  plan ratio agents/terraform_data   ${(results.agents_plan_nochange! / results.terraform_data_plan_nochange!).toFixed(2)}x`,
      `  agents apply minus REST floor      ${(results.agents_apply! - results.rest_floor_create!).toFixed(2)} s (terraform + provider overhead)`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    await cp.close();
  }
}

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function dataConfig(name: string, suffix: string): string {
  return `resource "terraform_data" "${name}" {\n  count = ${COUNT}\n  input = "item-\${count.index}${suffix}"\n}\n`;
}

/** `terraform apply` from an empty state (the previous round's state file is dropped). */
function freshApply(dir: string, env: NodeJS.ProcessEnv, extra: string[]): Promise<number> {
  for (const f of ['terraform.tfstate', 'terraform.tfstate.backup']) fs.rmSync(path.join(dir, f), { force: true });
  return terraform(dir, env, ['apply', '-auto-approve', '-no-color', ...extra]);
}

/** Resource ids in a workspace's state, in instance order. */
function stateIds(dir: string): string[] {
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'terraform.tfstate'), 'utf8')) as { resources: { instances: { attributes: { id: string } }[] }[] };
  return state.resources.flatMap((r) => r.instances.map((i) => i.attributes.id));
}

/** Bytes of terraform.tfstate per resource instance: what terraform rewrites after each change. */
function stateBytesPerInstance(dir: string): number {
  const file = path.join(dir, 'terraform.tfstate');
  const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { resources: { instances: unknown[] }[] };
  const instances = state.resources.reduce((n, r) => n + r.instances.length, 0);
  return Math.round(fs.statSync(file).size / Math.max(1, instances));
}

function tag(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]/g, '-');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
