/**
 * Constructs benchmark: synthesizing 1,000 agents (250 services × 4 environments through
 * ServiceAgents, the AgentBestPractices aspect, validations, and 250 sensitive secret outputs).
 * Target: `cdktf synth` of the app ≤ 10 s on the project's machine.
 *
 *   npm run build && node dist/bench/synth.js          # prints the figures; exit 1 when over target
 *   BENCH_AGENTS=5000 node dist/bench/synth.js
 *
 * Three figures: the in-process build + synth (best of 3, warm), one cold `node` process running the
 * app (what the CLI spawns), and the full `cdktf synth` CLI command.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Aspects, TerraformStack } from 'cdktf';
import { AgentBestPractices, CertusordoProvider, ServiceAgents } from '../constructs/src';

const ROOT = path.resolve(__dirname, '../..');
const AGENTS = Number(process.env.BENCH_AGENTS ?? 1000);
/** The app to build; `0` (the CLI baseline) is the provider alone. */
const APP_AGENTS = Number(process.env.BENCH_APP_AGENTS ?? AGENTS);
const TARGET_SECONDS = 10;
const ENVIRONMENTS = [{ name: 'dev', access: 'read-only' as const }, 'test', 'staging', 'prod'];

/** The benchmark app: `agents` agents in one stack. */
export function buildApp(outdir?: string, agents: number = APP_AGENTS): App {
  const app = new App(outdir ? { outdir } : {});
  const stack = new TerraformStack(app, 'bench');
  new CertusordoProvider(stack, 'certusordo', {});
  if (agents === 0) return app;
  const services = Array.from({ length: Math.ceil(agents / ENVIRONMENTS.length) }, (_, i) => ({
    name: `service-${String(i).padStart(4, '0')}`,
    scopes: [`orders${i % 17}:read`, `orders${i % 17}:write`, `reports${i % 5}:read`],
  }));
  const serviceAgents = new ServiceAgents(stack, 'Agents', { team: 'bench', version: '1.0.0', environments: ENVIRONMENTS, services });
  for (const agent of serviceAgents.forEnvironment('prod')) agent.secretOutput('secret');
  Aspects.of(stack).add(new AgentBestPractices());
  return app;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const elapsed = performance.now() - started;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return elapsed;
}

function main(): void {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-bench-synth-'));
  try {
    // 1. In-process, warm: construct + synth (validations, aspects, JSON written), best of 3.
    const runs: Array<{ build: number; synth: number }> = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const app = buildApp(path.join(tmp, `inproc-${i}`));
      const t1 = performance.now();
      app.synth();
      runs.push({ build: t1 - t0, synth: performance.now() - t1 });
    }
    const best = runs.reduce((a, b) => (a.build + a.synth <= b.build + b.synth ? a : b));
    const json = path.join(tmp, 'inproc-0', 'stacks', 'bench', 'cdk.tf.json');
    const resources = Object.keys(JSON.parse(fs.readFileSync(json, 'utf8')).resource.certusordo_agent).length;

    // 2. One cold node process running the app (module loading included).
    const env = { ...process.env, CHECKPOINT_DISABLE: '1', CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1' };
    const cold = timeCommand(process.execPath, [__filename, '--app', path.join(tmp, 'cold')], env);

    // 3. The CLI, as a pipeline runs it.
    const cdktf = path.join(ROOT, 'node_modules', '.bin', 'cdktf');
    const cliSynth = (agents: number, out: string) =>
      timeCommand(cdktf, ['synth', '--app', `${JSON.stringify(process.execPath)} ${JSON.stringify(__filename)} --app`, '--output', path.join(tmp, out)], {
        ...env,
        BENCH_APP_AGENTS: String(agents),
      });
    const baseline = cliSynth(0, 'cli-empty');
    const cli = cliSynth(AGENTS, 'cli');

    const ok = cli / 1000 <= TARGET_SECONDS;
    console.log(`synth benchmark: ${resources} agents, ${fs.statSync(json).size} bytes of Terraform JSON (node ${process.version}, ${os.cpus().length} CPUs)`);
    console.log(`  in-process, warm (best of 3): construct ${seconds(best.build)} + synth ${seconds(best.synth)} = ${seconds(best.build + best.synth)}`);
    console.log(`  node app process, cold:       ${seconds(cold)}`);
    console.log(`  cdktf synth (CLI):            ${seconds(cli)}   target ≤ ${TARGET_SECONDS} s: ${ok ? 'PASS' : 'FAIL'}`);
    console.log(`  cdktf synth, provider only:   ${seconds(baseline)}   (CLI and node start-up; the agents add ${seconds(cli - baseline)})`);
    console.log(`  load average: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    if (!ok) process.exitCode = 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  if (process.argv[2] === '--app') {
    // As a cdktf app: the CLI passes the output directory through CDKTF_OUTDIR.
    buildApp(process.argv[3]).synth();
  } else {
    main();
  }
}
