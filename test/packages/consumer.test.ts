/**
 * The packages as a user gets them: `npm pack` each workspace, install the tarballs into a fresh
 * project outside the repository (no workspace links, no path into the repository), then
 *   1. compile a strict TypeScript program against @certusordo/sdk and run it against a control
 *      plane started from the installed @certusordo/server (`npx certusordo serve`);
 *   2. `cdktf synth` an app that uses @certusordo/cdktf, `terraform init` offline from the mirror
 *      that the installed server CLI fills from @certusordo/terraform-provider, `terraform apply`;
 *   3. the same construct through CDK Terrain (`@certusordo/cdktf/cdktn`), synthesized in-process
 *      by the cdktn library in a second project, planned and applied by terraform.
 * Dependencies come from npm's cache when it has them (`--prefer-offline`), else from the registry.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureBuilt } from '../support/build';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; dependencies: Record<string, string> };
/** cdktn 0.24's peer range for constructs stops below the 10.8 that cdktf projects use. */
const CDKTN = { cdktn: '0.24.0', constructs: '10.7.0' };

jest.setTimeout(15 * 60_000);

/** npm's own variables from an enclosing `npm test` would steer the child npm (workspaces, prefix). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, CHECKPOINT_DISABLE: '1', NO_UPDATE_NOTIFIER: '1', ...extra };
}

async function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}

interface Served {
  url: string;
  apiKey: string;
  organizationId: string;
  proc: ChildProcess;
}

/** `npx certusordo serve` in the consumer project, on a free port, embedded store; resolves once it listens. */
function serve(project: string): Promise<Served> {
  const proc = spawn('npx', ['--no-install', 'certusordo', 'serve', '--port', '0', '--data-dir', path.join(project, '.certusordo')], {
    cwd: project,
    env: cleanEnv({ LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: npx runs the server as a grandchild and does not pass signals on.
    detached: true,
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let apiKey: string | undefined;
    let organizationId: string | undefined;
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      apiKey ??= /^CERTUSORDO_API_KEY=(aa_\S+)$/m.exec(out)?.[1];
      organizationId ??= /created organization ([0-9a-f-]{36})/.exec(out)?.[1];
      const url = /"url":"(http:\/\/[^"]+)".*listening/.exec(out)?.[1];
      if (url && apiKey && organizationId) resolve({ url, apiKey, organizationId, proc });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`certusordo serve exited (${code}) before listening:\n${out}`)));
  });
}

let work: string;
let tarballs: Record<string, string>;
let consumer: string;
let server: Served | undefined;
let tfrc: string;

beforeAll(async () => {
  ensureBuilt();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-consumer-'));
  const packed = path.join(work, 'tarballs');
  fs.mkdirSync(packed);
  const out = await sh('npm', ['pack', '--workspaces', '--json', '--pack-destination', packed], ROOT);
  const list = JSON.parse(out) as { name: string; filename: string }[];
  tarballs = Object.fromEntries(list.map((p) => [p.name, path.join(packed, p.filename)]));
  expect(Object.keys(tarballs).sort()).toEqual(['@certusordo/cdktf', '@certusordo/sdk', '@certusordo/server', '@certusordo/terraform-provider']);

  consumer = path.join(work, 'app');
  writeFiles(consumer, { 'package.json': JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }) });
  const deps = [
    ...Object.values(tarballs),
    `cdktf@${rootPkg.dependencies.cdktf}`,
    `constructs@${rootPkg.dependencies.constructs}`,
    `typescript@${rootPkg.devDependencies.typescript}`,
    `@types/node@${rootPkg.devDependencies['@types/node']}`,
  ];
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...deps], consumer);
  server = await serve(consumer);
  tfrc = path.join(work, 'certusordo.tfrc');
  // The installed server's CLI installs the provider from the installed provider package.
  await sh('npx', ['--no-install', 'certusordo', 'provider', 'install', '--mirror', path.join(work, 'mirror'), '--write-config', tfrc], consumer);
});

afterAll(async () => {
  if (server) {
    // 'close': every process holding its output (npx and the server under it) has exited.
    const exited = new Promise((r) => server!.proc.once('close', r));
    process.kill(-server.proc.pid!, 'SIGTERM');
    await exited;
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

it('installs nothing from the repository: every @certusordo package is a copy from its tarball', () => {
  for (const name of Object.keys(tarballs)) {
    const dir = path.join(consumer, 'node_modules', name);
    expect(fs.lstatSync(dir).isSymbolicLink()).toBe(false);
    expect(fs.realpathSync(dir).startsWith(ROOT)).toBe(false);
  }
});

it('the SDK: its own files stay under 384 kB, and a browser bundler takes it with its dependencies', async () => {
  const size = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? size(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size), 0);
  // Client, resource-server kit (DPoP with server nonces) and the MCP entry, each as ESM, CommonJS
  // and declarations, unminified so that a stack trace reads as the source: about 310 kB. The bound
  // catches a dependency or a duplicate bundle slipping in, not a feature.
  expect(size(path.join(consumer, 'node_modules/@certusordo/sdk'))).toBeLessThanOrEqual(384 * 1024);
  // A node: import or a Node-only dependency anywhere on the public entry's graph fails this build.
  const { build } = await import('esbuild');
  writeFiles(consumer, { 'browser-entry.mjs': "export * from '@certusordo/sdk';\n" });
  const result = await build({ entryPoints: [path.join(consumer, 'browser-entry.mjs')], absWorkingDir: consumer, bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
  expect(result.errors).toEqual([]);
  expect(result.outputFiles[0]!.text).toContain('CertusOrdoClient');
});

it('a strict TypeScript program creates an agent, gets a token and verifies it (CommonJS), and the ESM entry loads', async () => {
  writeFiles(consumer, {
    'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', moduleResolution: 'node', strict: true, outDir: 'out', types: ['node'] }, files: ['src/token.ts'] }),
    'src/token.ts': `
import { AgentCredentials, CertusOrdoClient, NotFoundError, verifyAccessToken } from '@certusordo/sdk';

async function main(): Promise<void> {
  const baseUrl = process.env.CERTUSORDO_ENDPOINT!;
  const client = new CertusOrdoClient({ apiKey: process.env.CERTUSORDO_API_KEY!, baseUrl });
  const agent = await client.agents.create({ name: 'consumer-sdk-agent', scopes: ['reports:read'] });
  const credentials = AgentCredentials.fromSecret(agent.secret!, { baseUrl });
  const token: string = await credentials.getToken({ scope: 'reports:read' });
  const claims = await verifyAccessToken(token, { baseUrl, organizationId: process.env.CERTUSORDO_ORGANIZATION_ID! });
  let missing = '';
  try {
    await client.agents.get('00000000-0000-4000-8000-000000000000');
  } catch (err) {
    if (err instanceof NotFoundError) missing = err.name;
  }
  console.log(JSON.stringify({ agent: agent.id, sub: claims.sub, scopes: claims.scopes, missing }));
}
main().catch((err) => { console.error(err); process.exit(1); });
`,
  });
  await sh(path.join(consumer, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], consumer);
  const env = cleanEnv({ CERTUSORDO_ENDPOINT: server!.url, CERTUSORDO_API_KEY: server!.apiKey, CERTUSORDO_ORGANIZATION_ID: server!.organizationId });
  const result = JSON.parse(await sh(process.execPath, ['out/token.js'], consumer, env)) as { agent: string; sub: string; scopes: string[]; missing: string };
  expect(result).toEqual({ agent: result.agent, sub: result.agent, scopes: ['reports:read'], missing: 'NotFoundError' });

  const esm = await sh(process.execPath, ['--input-type=module', '-e', "const sdk = await import('@certusordo/sdk'); console.log(typeof sdk.CertusOrdoClient, typeof sdk.verifyAccessToken, sdk.VERSION)"], consumer);
  expect(esm.trim()).toBe(`function function ${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}`);
  // `@certusordo/sdk/mcp` is exported for both module systems. It needs its optional peer
  // (@modelcontextprotocol/sdk), which this project does not install: only its resolution is checked.
  const mcp = await sh(process.execPath, ['-e', "console.log(require.resolve('@certusordo/sdk/mcp').endsWith('mcp.cjs'))"], consumer);
  expect(mcp.trim()).toBe('true');
});

const CONSTRUCT_APP = (cdk: 'cdktf' | 'cdktn', constructsFrom: string, name: string, outdir: string) => `
import { App, TerraformStack } from '${cdk}';
import { CertusOrdoAgent, CertusordoProvider } from '${constructsFrom}';

const app = new App({ outdir: ${JSON.stringify(outdir)} });
const stack = new TerraformStack(app, 'consumer');
new CertusordoProvider(stack, 'certusordo', {});
const agent = new CertusOrdoAgent(stack, 'Agent', { name: '${name}', scopes: ['reports:read'] });
agent.secretOutput('agent_secret');
app.synth();
`;

/** The construct apps compile on their own, strictly, against the installed packages' declarations. */
const STRICT_APP_TSCONFIG = JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, types: [] }, files: ['main.ts'] });

async function applyStack(stackDir: string): Promise<{ secret: { sensitive: boolean; value: string }; agentId: string }> {
  const env = cleanEnv({ TF_CLI_CONFIG_FILE: tfrc, TF_IN_AUTOMATION: '1', CERTUSORDO_ENDPOINT: server!.url, CERTUSORDO_API_KEY: server!.apiKey });
  await sh('terraform', ['init', '-input=false', '-no-color'], stackDir, env);
  await sh('terraform', ['apply', '-auto-approve', '-input=false', '-no-color'], stackDir, env);
  const outputs = JSON.parse(await sh('terraform', ['output', '-json'], stackDir, env)) as Record<string, { sensitive: boolean; value: string }>;
  const state = JSON.parse(await sh('terraform', ['show', '-json'], stackDir, env)) as { values: { root_module: { resources: { type: string; values: { id: string } }[] } } };
  const agent = state.values.root_module.resources.find((r) => r.type === 'certusordo_agent')!;
  const secret = Object.entries(outputs).find(([k]) => k.includes('agent_secret'))![1];
  return { secret, agentId: agent.values.id };
}

async function expectAgent(id: string, name: string, secret: string): Promise<void> {
  const res = await fetch(`${server!.url}/v1/agents/${id}`, { headers: { authorization: `Bearer ${server!.apiKey}` } });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ id, name, status: 'active' });
  expect(secret).toMatch(new RegExp(`^cos_${id}_`));
}

it('cdktf: synth with @certusordo/cdktf, terraform init offline from the installed provider, apply; the secret output is sensitive', async () => {
  writeFiles(consumer, {
    'cdktf.json': JSON.stringify({ language: 'typescript', app: 'node main.js', terraformProviders: [], sendCrashReports: 'false' }),
    'main.ts': CONSTRUCT_APP('cdktf', '@certusordo/cdktf', 'consumer-cdktf-agent', 'cdktf.out'),
    'tsconfig.app.json': STRICT_APP_TSCONFIG,
  });
  await sh(path.join(consumer, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.app.json'], consumer);
  // The cdktf CLI is a tool, as a user has it installed; the app and its packages are the project's.
  await sh(path.join(ROOT, 'node_modules/.bin/cdktf'), ['synth'], consumer, cleanEnv({ CI: 'true' }));
  const { secret, agentId } = await applyStack(path.join(consumer, 'cdktf.out/stacks/consumer'));
  expect(secret.sensitive).toBe(true);
  await expectAgent(agentId, 'consumer-cdktf-agent', secret.value);
});

it('cdktn: the same construct through CDK Terrain, synthesized in-process, applied by terraform', async () => {
  const project = path.join(work, 'terrain');
  writeFiles(project, {
    'package.json': JSON.stringify({ name: 'terrain-consumer', version: '1.0.0', private: true }),
    'main.ts': CONSTRUCT_APP('cdktn', '@certusordo/cdktf/cdktn', 'consumer-cdktn-agent', 'out'),
    'tsconfig.app.json': STRICT_APP_TSCONFIG,
  });
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarballs['@certusordo/cdktf']!, `cdktn@${CDKTN.cdktn}`, `constructs@${CDKTN.constructs}`], project);
  expect(fs.existsSync(path.join(project, 'node_modules/cdktf'))).toBe(false);
  // This project has no TypeScript of its own; the first project's compiler checks it against this project's packages.
  await sh(path.join(consumer, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.app.json'], project);
  await sh(process.execPath, ['main.js'], project);
  const stackDir = path.join(project, 'out/stacks/consumer');
  const synthesized = JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8')) as { output: Record<string, { sensitive?: boolean }> };
  expect(Object.values(synthesized.output).some((o) => o.sensitive === true)).toBe(true);
  const { secret, agentId } = await applyStack(stackDir);
  expect(secret.sensitive).toBe(true);
  await expectAgent(agentId, 'consumer-cdktn-agent', secret.value);
});
