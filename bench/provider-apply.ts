/**
 * Provider benchmark: `terraform apply`, a plan with nothing changed, and `terraform destroy` of 500
 * certusordo_agent resources next to 500 built-in terraform_data resources (same machine, same run,
 * default -parallelism=10, interleaved rounds, medians). Targets: no-change plan ≤ 2× and destroy
 * ≤ 1.5× terraform_data's; apply ≤ 1.3× a third workspace, terraform_data padded to the agents'
 * state-file size, which separates terraform's own cost of a larger state from what the provider
 * and the control plane add. The breakdown shows, per agents command, the provider processes Terraform
 * launched (count, CPU), terraform's own CPU, the control plane's CPU (in-process control plane only)
 * and its requests by route. Target for the provider itself: its CPU in the no-change plan ≤ terraform's
 * own CPU for the same agents (printed per round, as is the same ratio for apply and destroy).
 *
 *   npm run build && npm run bench:provider            # control plane from dist/api on a disposable PostgreSQL (BENCH_BACKEND=pglite: embedded)
 *   CERTUSORDO_ENDPOINT=… CERTUSORDO_API_KEY=… npm run bench:provider   # or use a running one
 *   BENCH_COUNT=200 BENCH_ROUNDS=1 npm run bench:provider
 *   BENCH_BASELINE_MAIN=/other/build/dist/provider-bridge/src/main.js npm run bench:provider
 *     # also plans the same agents with another build of the provider (e.g. the parent commit's),
 *     # interleaved with this one's plan in every round, and prints both providers' CPU
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
  /** Requests by `METHOD /path` (ids folded to {id}) since the last call; empty for an external control plane. */
  takeRequests(): Record<string, number>;
}

/**
 * Uses CERTUSORDO_ENDPOINT/API_KEY, or starts the built control plane (dist/api) on a disposable
 * PostgreSQL (dist/bench/support/postgres.js), or on PGlite with BENCH_BACKEND=pglite.
 */
async function controlPlane(): Promise<ControlPlane & { backend: string }> {
  if (process.env.CERTUSORDO_ENDPOINT && process.env.CERTUSORDO_API_KEY) {
    return { url: process.env.CERTUSORDO_ENDPOINT, apiKey: process.env.CERTUSORDO_API_KEY, backend: 'external', close: async () => {}, takeRequests: () => ({}) };
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
  // The access log (level info) is how requests are counted; its lines are parsed, not written anywhere.
  const requests: Record<string, number> = {};
  let partial = '';
  const accessLog = {
    write(chunk: string): void {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const e = JSON.parse(partial.slice(0, nl)) as { msg?: string; method?: string; path?: string };
        partial = partial.slice(nl + 1);
        if (e.msg !== 'request') continue;
        const key = `${e.method} ${String(e.path).replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{id}')}`;
        requests[key] = (requests[key] ?? 0) + 1;
      }
    },
  };
  const running = await startServer(config, { logger: createLogger('info', accessLog) });
  return {
    url: running.url,
    apiKey: running.bootstrap.apiKey,
    backend,
    takeRequests: () => {
      const out = { ...requests };
      for (const k of Object.keys(requests)) delete requests[k];
      return out;
    },
    close: async () => {
      await running.close();
      await pg?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What one terraform command cost, beyond its wall time. */
interface Cost {
  seconds: number;
  /** CPU seconds of terraform and every process it started (bash `times`), null without bash. */
  childrenCpu: number | null;
  /** Provider processes Terraform launched, and their CPU seconds (from the accounting hook). */
  launches: number;
  providerCpu: number;
  /** CPU seconds of this process while the command ran: the in-process control plane (its PostgreSQL not included). */
  controlPlaneCpu: number;
  requests: Record<string, number>;
}

/**
 * Loaded into every provider process through NODE_OPTIONS=--require: appends the process's CPU
 * time at exit to BENCH_ACCOUNTING_FILE. Bench only; the provider itself knows nothing of it.
 */
const ACCOUNTING_HOOK = `const f = process.env.BENCH_ACCOUNTING_FILE;
if (f) process.on('exit', () => { const u = process.cpuUsage(); require('node:fs').appendFileSync(f, JSON.stringify({ cpu: (u.user + u.system) / 1e6, wall: process.uptime() }) + '\\n'); });
`;

let lastCost: Cost | null = null;
let accounting: { hook: string; file: string; cp: ControlPlane } | null = null;

function terraform(cwd: string, env: NodeJS.ProcessEnv, args: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  if (accounting) {
    fs.rmSync(accounting.file, { force: true });
    accounting.cp.takeRequests();
    env = { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --require ${accounting.hook}`.trim(), BENCH_ACCOUNTING_FILE: accounting.file };
  }
  const hasBash = fs.existsSync('/bin/bash');
  return new Promise((resolve, reject) => {
    // bash's `times` reports the CPU of terraform and all its descendants (the provider processes).
    const child = hasBash
      ? spawn('/bin/bash', ['-c', 'terraform "$@"; rc=$?; times >&2; exit $rc', 'bench', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('terraform', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        return reject(new Error(`terraform ${args.join(' ')} exited ${code}\n${out.slice(-4000)}`));
      }
      if (/Provider produced (inconsistent|invalid)/.test(out)) return reject(new Error(`protocol violation:\n${out.slice(-4000)}`));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = process.cpuUsage(cpuBefore);
      // The last four are bash's own user/sys and its children's user/sys.
      const times = hasBash ? [...out.matchAll(/(\d+)m([\d.]+)s/g)].slice(-4).map((m) => Number(m[1]) * 60 + Number(m[2])) : [];
      const launches = accounting && fs.existsSync(accounting.file)
        ? fs.readFileSync(accounting.file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { cpu: number })
        : [];
      lastCost = {
        seconds,
        childrenCpu: times.length >= 4 ? times[2]! + times[3]! : null,
        launches: launches.length,
        providerCpu: launches.reduce((a, l) => a + l.cpu, 0),
        controlPlaneCpu: (cpu.user + cpu.system) / 1e6,
        requests: accounting ? accounting.cp.takeRequests() : {},
      };
      resolve(seconds);
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
    const baseline = process.env.BENCH_BASELINE_MAIN ? await baselineWorkspace(work, path.resolve(process.env.BENCH_BASELINE_MAIN), env, path.join(dirs.agents, 'main.tf')) : null;
    const client = new RestClient({ endpoint: cp.url, apiKey: cp.apiKey });
    const hook = path.join(work, 'accounting-hook.js');
    fs.writeFileSync(hook, ACCOUNTING_HOOK);
    accounting = { hook, file: path.join(work, 'accounting.jsonl'), cp };

    // Interleaved rounds, so that a noisy neighbour hits every workspace alike: per round a fresh
    // apply of each, a plan with nothing changed, and a destroy. Medians are the figures.
    const steps = ['data_apply', 'agents_apply', 'sized_apply', 'data_plan', 'agents_plan', 'baseline_plan', 'data_destroy', 'agents_destroy'] as const;
    type Step = (typeof steps)[number];
    const rounds: Record<Step, number>[] = [];
    const costs: Partial<Record<Step, Cost[]>> = {};
    const bytes = { data: 0, agents: 0, sized: 0 };
    const agentVars = (r: number): string[] => ['-var', `round=${r}`];
    for (let r = 0; r < ROUNDS; r++) {
      const t = {} as Record<Step, number>;
      const note = (step: Step, seconds: number): void => {
        t[step] = seconds;
        (costs[step] ??= []).push(lastCost!);
      };
      note('data_apply', await freshApply(dirs.data, env, []));
      note('agents_apply', await freshApply(dirs.agents, env, agentVars(r)));
      if (r === 0) {
        // Control: terraform_data padded to the agents' state size. The local backend rewrites
        // the whole state file after every resource (O(n^2) bytes), so size alone costs time.
        bytes.data = stateBytesPerInstance(dirs.data);
        bytes.agents = stateBytesPerInstance(dirs.agents);
        const pad = 'x'.repeat(Math.max(0, Math.round((bytes.agents - bytes.data) / 2))); // input and output both hold it
        fs.writeFileSync(path.join(dirs.sized, 'main.tf'), dataConfig('s', `-${pad}`));
        await terraform(dirs.sized, env, ['init', '-no-color']);
      }
      note('sized_apply', await freshApply(dirs.sized, env, []));
      if (r === 0) bytes.sized = stateBytesPerInstance(dirs.sized);
      note('data_plan', await terraform(dirs.data, env, ['plan', '-no-color', '-detailed-exitcode']));
      note('agents_plan', await terraform(dirs.agents, env, ['plan', '-no-color', '-detailed-exitcode', ...agentVars(r)]));
      if (baseline) {
        // The same state, planned by the other build: a plan writes no state, so a copy is enough.
        fs.copyFileSync(path.join(dirs.agents, 'terraform.tfstate'), path.join(baseline.dir, 'terraform.tfstate'));
        note('baseline_plan', await terraform(baseline.dir, baseline.env, ['plan', '-no-color', '-detailed-exitcode', ...agentVars(r)]));
      }
      note('data_destroy', await terraform(dirs.data, env, ['destroy', '-auto-approve', '-no-color']));
      note('agents_destroy', await terraform(dirs.agents, env, ['destroy', '-auto-approve', '-no-color', ...agentVars(r)]));
      rounds.push(t);
    }
    accounting = null;

    const med = (step: Step): number => median(rounds.map((x) => x[step]));
    const results: Record<string, number> = {
      terraform_data_apply: med('data_apply'),
      agents_apply: med('agents_apply'),
      terraform_data_sized_apply: med('sized_apply'),
      terraform_data_plan_nochange: med('data_plan'),
      agents_plan_nochange: med('agents_plan'),
      terraform_data_destroy: med('data_destroy'),
      agents_destroy: med('agents_destroy'),
    };

    // The control plane's share: the same REST calls without terraform, same concurrency (10).
    const ids: string[] = [];
    results.rest_floor_create = await pool(COUNT, 10, async (i) => ids.push((await client.createAgent({ name: `${run}-raw-${i}`, scopes: ['bench:read'], metadata: { index: String(i) } })).id));
    results.rest_floor_get = await pool(COUNT, 10, (i) => client.getAgent(ids[i]!));
    results.rest_floor_batched_read = await pool(Math.ceil(COUNT / 10), 1, (i) => client.findAgents(ids.slice(i * 10, i * 10 + 10)));
    results.rest_floor_revoke = await pool(COUNT, 10, (i) => client.revokeAgent(ids[i]!));

    const ratio = (a: Step, b: Step): { median: number; min: number; max: number } => {
      const xs = rounds.map((x) => x[a] / x[b]);
      return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
    };
    const verdict = (name: string, r: { median: number; min: number; max: number }, target: number): string =>
      `  ${name.padEnd(38)} ${r.median.toFixed(2)}x median, ${r.min.toFixed(2)}-${r.max.toFixed(2)}x per round (target <= ${target}x) ${r.median <= target ? 'OK' : 'OVER TARGET'}`;
    const breakdown = (step: Step): string => {
      const cs = costs[step] ?? [];
      if (cs.length === 0) return `  ${step.padEnd(15)} not run`;
      const m = (f: (c: Cost) => number): string => median(cs.map(f)).toFixed(2);
      const tfCpu = cs.every((c) => c.childrenCpu !== null) ? `terraform's own CPU ${m((c) => c.childrenCpu! - c.providerCpu)} s, ` : '';
      const req = cs[cs.length - 1]?.requests ?? {};
      return `  ${step.padEnd(15)} wall ${m((c) => c.seconds)} s; ${tfCpu}provider CPU ${m((c) => c.providerCpu)} s in ${m((c) => c.launches)} launches; control plane CPU ${m((c) => c.controlPlaneCpu)} s; requests ${JSON.stringify(req)}`;
    };
    const lines = [
      `terraform ${COUNT} resources, -parallelism=10 (default), ${ROUNDS} interleaved rounds (medians), control plane on ${cp.backend}, node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}`,
      ...rounds.map(
        (x, i) =>
          `  round ${i + 1}: apply data ${x.data_apply.toFixed(2)} / agents ${x.agents_apply.toFixed(2)} / sized ${x.sized_apply.toFixed(2)} s; plan data ${x.data_plan.toFixed(2)} / agents ${x.agents_plan.toFixed(2)} s; destroy data ${x.data_destroy.toFixed(2)} / agents ${x.agents_destroy.toFixed(2)} s`,
      ),
      ...Object.entries(results).map(([k, v]) => `  ${k.padEnd(30)} ${v.toFixed(2)} s`),
      verdict('apply ratio agents/sized control', ratio('agents_apply', 'sized_apply'), 1.3),
      verdict('no-change plan ratio agents/terraform_data', ratio('agents_plan', 'data_plan'), 2),
      verdict('destroy ratio agents/terraform_data', ratio('agents_destroy', 'data_destroy'), 1.5),
      `  apply ratio agents/terraform_data      ${ratio('agents_apply', 'data_apply').median.toFixed(2)}x median (for reference)`,
      `  state file bytes per instance          terraform_data ${bytes.data}, agents ${bytes.agents}, sized control ${bytes.sized}`,
      'provider CPU / terraform\'s own CPU for the same agents (user+sys; per round, median):',
      ...providerShare(costs.agents_plan, 'no-change plan', 1.0),
      ...providerShare(costs.baseline_plan, 'no-change plan, baseline build'),
      ...providerShare(costs.agents_apply, 'apply'),
      ...providerShare(costs.agents_destroy, 'destroy'),
      'breakdown (medians; CPU of processes, so on 2 cores they overlap with wall time):',
      ...(['data_plan', 'agents_plan', ...(baseline ? (['baseline_plan'] as const) : []), 'data_destroy', 'agents_destroy', 'sized_apply', 'agents_apply'] as const).map(breakdown),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    await cp.close();
  }
}

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

/**
 * The provider processes' CPU against terraform's own (all CPU under terraform minus the providers')
 * for one command, per round: what the provider adds next to what terraform itself spends on the
 * same agents. Empty without bash's `times` (or when the command did not run).
 */
function providerShare(cs: Cost[] | undefined, what: string, target?: number): string[] {
  if (!cs || cs.length === 0 || cs.some((c) => c.childrenCpu === null)) return [];
  const xs = cs.map((c) => c.providerCpu / (c.childrenCpu! - c.providerCpu));
  const m = median(xs);
  const verdict = target === undefined ? '' : ` (target <= ${target.toFixed(1)}x) ${m <= target ? 'OK' : 'OVER TARGET'}`;
  const provider = median(cs.map((c) => c.providerCpu)).toFixed(2);
  const own = median(cs.map((c) => c.childrenCpu! - c.providerCpu)).toFixed(2);
  return [`  ${what.padEnd(38)} ${m.toFixed(2)}x median, ${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}x per round: provider ${provider} s in ${median(cs.map((c) => c.launches))} launches, terraform ${own} s${verdict}`];
}

/**
 * A second agents workspace whose provider is another build (BENCH_BASELINE_MAIN), installed into a
 * mirror of its own: the same configuration, planned against a copy of the agents' state.
 */
async function baselineWorkspace(work: string, mainJs: string, env: NodeJS.ProcessEnv, mainTf: string): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const install = installProvider({ mirrorDir: path.join(work, 'baseline-mirror'), version: '0.1.0', mainJs });
  const rc = path.join(work, 'baseline-terraformrc');
  fs.writeFileSync(rc, install.cliConfig);
  const dir = path.join(work, 'baseline');
  fs.mkdirSync(dir);
  fs.copyFileSync(mainTf, path.join(dir, 'main.tf'));
  const baselineEnv = { ...env, TF_CLI_CONFIG_FILE: rc };
  await terraform(dir, baselineEnv, ['init', '-no-color']);
  return { dir, env: baselineEnv };
}

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
