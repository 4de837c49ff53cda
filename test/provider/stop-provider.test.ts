/**
 * StopProvider end to end: Ctrl-C while the provider is blocked in a REST call.
 *
 * A "black hole" control plane answers the ConfigureProvider probe (GET /v1/agents) but never
 * answers POST /v1/agents. `terraform apply` is started in its own process group and, once the
 * POST has arrived, the group gets SIGINT, as a Ctrl-C in a pipeline does. The provider ignores
 * the signal itself; terraform sends StopProvider, the provider aborts its stop signal, the REST
 * client cancels the in-flight request (the black hole sees the connection close) and does not
 * retry, ApplyResourceChange returns "Operation cancelled", and terraform exits 1.
 *
 * Without the abort the provider would sit in the request until the REST client's per-attempt
 * timeout (30 s, not configurable from Terraform) and then retry it up to 5 times with backoff
 * (about 3 minutes in all) while terraform waits "gracefully": the bound below is far under a
 * single attempt's timeout, so the test cannot pass by timing out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROVIDER_BLOCK, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';

jest.setTimeout(120_000);

/** The REST client's per-attempt timeout (provider-bridge/src/client/rest-client.ts). */
const REST_TIMEOUT_MS = 30_000;
/**
 * How long terraform may take from SIGINT to exit. Not a performance figure (it takes ~50 ms):
 * a correctness bound, generous for a loaded machine and a third of a single attempt's timeout.
 */
const EXIT_BOUND_MS = 10_000;

interface Seen {
  method: string;
  url: string;
  at: number;
  /** When the client closed the connection of an unanswered request. */
  closedAt?: number;
}

/** Answers the configure probe, swallows creates. */
class BlackHole {
  readonly seen: Seen[] = [];
  private readonly server: http.Server;
  private waiters: Array<() => void> = [];

  constructor() {
    this.server = http.createServer((req, res) => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', at: Date.now() };
      this.seen.push(s);
      req.resume();
      if (s.method === 'GET' && s.url.startsWith('/v1/agents')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: [], next_cursor: null }));
      } else if (s.method === 'POST' && s.url === '/v1/agents') {
        // Never answered. Record when the provider gives up on it.
        res.on('close', () => (s.closedAt = Date.now()));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'not_found', message: `unexpected ${s.method} ${s.url}` } }));
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  creates(): Seen[] {
    return this.seen.filter((s) => s.method === 'POST' && s.url === '/v1/agents');
  }

  /** Resolves when a create has arrived; rejects when `gaveUp` settles first. */
  waitForCreate(gaveUp: Promise<unknown>, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no POST /v1/agents within ${timeoutMs} ms`)), timeoutMs);
      const check = (): void => {
        if (this.creates().length > 0) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      gaveUp.then(
        () => {
          clearTimeout(timer);
          reject(new Error('terraform exited before the provider sent POST /v1/agents'));
        },
        reject,
      );
      check();
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Live processes started for this test (terraform and its provider plugins), recognised by the
 * test's own TF_CLI_CONFIG_FILE in their environment: nothing else on the machine has it.
 */
function processesWithEnv(entry: string): number[] {
  if (!fs.existsSync('/proc/self/environ')) return [];
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(entry)) pids.push(Number(name));
    } catch {
      /* gone, or not ours */
    }
  }
  return pids;
}

/**
 * Resolves once no process of this run is left. The plugins are terraform's children, not ours,
 * so no exit event reaches this process: /proc is read until they are gone, and the bound only
 * limits how long the test waits before it fails with the pids still alive.
 */
async function untilNoneLeft(leftovers: () => number[], boundMs: number): Promise<void> {
  const until = Date.now() + boundMs;
  for (let alive = leftovers(); alive.length > 0; alive = leftovers()) {
    if (Date.now() > until) throw new Error(`still running ${boundMs} ms after terraform exited: pids ${alive.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithTerraform('StopProvider with terraform', () => {
  let hole: BlackHole;
  let root: string;
  let cliConfig: string;
  let ws: TfWorkspace;
  let child: ChildProcess | null = null;

  beforeAll(async () => {
    ensureProviderBuilt();
    hole = new BlackHole();
    const endpoint = await hole.listen();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-stop-'));
    cliConfig = installForTests(root);
    ws = new TfWorkspace(cliConfig, { endpoint, apiKey: 'aa_stopprovider_test_key_0123456789abcdef' });
    ws.write({ 'main.tf': `${PROVIDER_BLOCK}\nresource "certusordo_agent" "stuck" {\n  name = "stuck"\n}\n` });
    await ws.must(['init', '-no-color']);
  });

  afterAll(async () => {
    // Whatever happened, leave nothing running: the terraform group, then any stray plugin.
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (cliConfig) {
      for (const pid of processesWithEnv(`TF_CLI_CONFIG_FILE=${cliConfig}`)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    await hole?.close();
    ws?.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('Ctrl-C during a blocked create cancels the request and terraform exits promptly', async () => {
    const started = Date.now();
    // Own process group (detached), so SIGINT reaches terraform and its plugins as a terminal's Ctrl-C does.
    const tf = spawn('terraform', ['apply', '-auto-approve', '-no-color'], { cwd: ws.dir, env: ws.env, detached: true });
    child = tf;
    let out = '';
    tf.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    tf.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve, reject) => {
      tf.on('error', reject);
      tf.on('close', (code, signal) => resolve({ code, signal, at: Date.now() }));
    });

    await hole.waitForCreate(exited, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n--- terraform output\n${out}`);
    });
    const blockedAt = Date.now();
    // The provider is blocked in the create: the black hole holds it open.
    expect(hole.creates()[0]!.closedAt).toBeUndefined();
    const leftovers = (): number[] => processesWithEnv(`TF_CLI_CONFIG_FILE=${cliConfig}`);
    // terraform and the provider, so the leftover check at the end is not vacuous (Linux /proc only).
    if (fs.existsSync('/proc/self/environ')) expect(leftovers().length).toBeGreaterThanOrEqual(2);

    const interruptedAt = Date.now();
    process.kill(-tf.pid!, 'SIGINT');
    // The bound only limits the wait for terraform's exit (far under one attempt's timeout, so a
    // provider that let the request time out fails here, loudly).
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), EXIT_BOUND_MS).unref());
    const result = await Promise.race([exited, timeout]);
    if (result === null) {
      throw new Error(`terraform still running ${EXIT_BOUND_MS} ms after SIGINT (the in-flight create was not cancelled)\n--- terraform output\n${out}`);
    }
    const exitMs = result.at - interruptedAt;
    const create = hole.creates()[0]!;
    console.log(
      `stop-provider timings: apply start → POST ${blockedAt - started} ms; SIGINT → request closed ${
        create.closedAt === undefined ? 'never' : `${create.closedAt - interruptedAt} ms`
      }; SIGINT → terraform exit ${exitMs} ms (REST timeout ${REST_TIMEOUT_MS} ms per attempt)`,
    );

    // A failure, not a kill: terraform handled the interrupt and reported the provider's error.
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);

    // The provider closed the in-flight request itself after the interrupt (the message below
    // says why: the stop, not a timeout).
    expect(create.closedAt).toBeDefined();
    expect(create.closedAt!).toBeGreaterThanOrEqual(interruptedAt);

    const flat = out.replace(/\s*\n[│\s]*/g, ' ');
    expect(flat).toContain('Interrupt received');
    expect(flat).toContain('Error: Operation cancelled');
    expect(flat).toContain('Unable to create agent "stuck": request cancelled because Terraform asked the provider to stop.');
    expect(flat).not.toMatch(/Cannot reach the CertusOrdo control plane|no answer from/);
    expect(flat).not.toContain('Apply complete');

    // Exactly one create: no retry after the stop. The two GETs are the configure probes of
    // the plan and apply phases (terraform starts a provider process per phase).
    expect(hole.creates()).toHaveLength(1);
    expect(hole.seen.map((s) => `${s.method} ${s.url.split('?')[0]}`)).toEqual(['GET /v1/agents', 'GET /v1/agents', 'POST /v1/agents']);

    // Nothing of this run is left running (terraform ends its plugins on exit).
    await untilNoneLeft(leftovers, 5_000);
    // So no late retry can come any more.
    expect(hole.creates()).toHaveLength(1);
  });
});
