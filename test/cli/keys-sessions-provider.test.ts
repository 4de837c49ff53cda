/**
 * `agents keys …`, `sessions …` and `provider install` of the built CLI (`node dist/cli/main.js`),
 * spawned against a real control plane. Rebuilds dist/ first when it is older than the sources.
 */
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentCredentials, CertusOrdoClient, generateAgentKeyPair, type OpenedSession } from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';
import { ensureBuilt } from '../support/build';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const VERSION = '0.1.0';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let server: TestServer;
let client: CertusOrdoClient;

/** Asynchronous spawn: the server lives in this process. */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const full: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CERTUSORDO_ENDPOINT: server.url,
      CERTUSORDO_API_KEY: server.apiKey,
      ...env,
    };
    for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
    const child = spawn(process.execPath, [MAIN, ...args], { env: full, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

const json = (r: Result) => JSON.parse(r.stdout);

beforeAll(async () => {
  ensureBuilt();
  server = await startTestServer();
  client = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
}, 180_000);
afterAll(async () => server?.close());

describe('agents federated-credentials', () => {
  it('create --issuer/--subject makes a secretless agent; add, list and remove its credentials; the last one stays', async () => {
    const issuer = 'https://token.actions.githubusercontent.com';
    const created = await cli(['--json', 'agents', 'create', 'cli-secretless', '-s', 'deploy:write', '--issuer', issuer, '--subject', 'repo:acme/payments:environment:production', '--claim', 'repository_owner=acme']);
    expect(created.code).toBe(0);
    const agent = json(created) as { id: string; publicKey: string | null; secret?: string };
    expect(agent.publicKey).toBeNull();
    expect(agent.secret).toBeUndefined();
    expect(created.stderr).not.toMatch(/store the secret/);

    const listed = json(await cli(['--json', 'agents', 'federated-credentials', 'list', agent.id])) as Array<{ id: string; claims: Record<string, unknown> }>;
    expect(listed).toEqual([expect.objectContaining({ claims: { repository_owner: 'acme' }, status: 'active' })]);
    const last = await cli(['agents', 'federated-credentials', 'remove', agent.id, listed[0]!.id, '--yes']);
    expect(last.code).not.toBe(0);
    expect(last.stderr).toMatch(/last active key or federated credential/);

    const added = await cli(['--json', 'agents', 'federated-credentials', 'add', agent.id, '--issuer', issuer, '--subject', 'repo:acme/payments:ref:refs/heads/main', '--claim', 'run_attempt=1']);
    expect(added.code).toBe(0);
    expect(json(added)).toMatchObject({ subject: 'repo:acme/payments:ref:refs/heads/main', claims: { run_attempt: 1 } });
    const removed = await cli(['--json', 'agents', 'federated-credentials', 'remove', agent.id, listed[0]!.id, '--yes']);
    expect(removed.code).toBe(0);
    expect(json(removed)).toMatchObject({ id: listed[0]!.id, status: 'revoked' });
    // An http issuer is the server's 400, with the rule in the message.
    const bad = await cli(['agents', 'federated-credentials', 'add', agent.id, '--issuer', 'http://issuer.example', '--subject', 'x']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/https/);
    expect((await cli(['agents', 'create', 'cli-half', '--issuer', issuer])).code).toBe(2);
    // A JWK Set holding a private key is refused before anything is sent.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-jwks-')), 'jwks.json');
    const priv = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    fs.writeFileSync(file, JSON.stringify({ keys: [{ ...priv, kid: 'k1' }] }));
    const before = await client.agents.federatedCredentials.list(agent.id);
    const leaked = await cli(['agents', 'federated-credentials', 'add', agent.id, '--issuer', 'https://ci.internal.example', '--subject', 'x', '--jwks-file', file]);
    expect(leaked.code).toBe(2);
    expect(leaked.stderr).toMatch(/keys\[0\] holds private key members \(d\)/);
    expect(await client.agents.federatedCredentials.list(agent.id)).toEqual(before);
  });
});

describe('agents keys', () => {
  it('add prints a new secret once with a warning; list shows both keys; remove revokes one; the last key stays', async () => {
    const agent = await client.agents.create({ name: 'cli-keys', scopes: ['data:read'] });

    const listed = await cli(['--json', 'agents', 'keys', 'list', agent.id]);
    expect(listed.code).toBe(0);
    const [original] = json(listed) as Array<{ kid: string; status: string }>;
    expect(original).toMatchObject({ status: 'active' });

    const added = await cli(['agents', 'keys', 'add', agent.id]);
    expect(added.code).toBe(0);
    const secret = /^Secret:\s+(cos_\S+)$/m.exec(added.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(added.stderr).toContain('WARNING: store the secret now');
    // the new secret authenticates
    const creds = AgentCredentials.fromSecret(secret!, { baseUrl: server.url });
    expect((await client.introspect(await creds.getToken())).active).toBe(true);

    const table = await cli(['agents', 'keys', 'list', agent.id]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^KID\s+STATUS\s+CREATED\s+REVOKED\s+PUBLIC KEY/);
    expect(table.stdout.trim().split('\n')).toHaveLength(3);

    // bring your own key: no secret
    const own = await cli(['--json', 'agents', 'keys', 'add', agent.id, '--public-key', (await generateAgentKeyPair()).publicKey]);
    expect(own.code).toBe(0);
    expect(json(own)).not.toHaveProperty('secret');
    expect(own.stderr).not.toContain('WARNING');

    // remove refuses without --yes off a terminal, then revokes
    const noYes = await cli(['agents', 'keys', 'remove', agent.id, original!.kid]);
    expect(noYes.code).toBe(2);
    const removed = await cli(['--json', 'agents', 'keys', 'remove', agent.id, original!.kid, '--yes']);
    expect(removed.code).toBe(0);
    expect(json(removed)).toMatchObject({ kid: original!.kid, status: 'revoked' });

    const keys = (await client.agents.keys.list(agent.id)).filter((k) => k.status === 'active');
    expect(keys).toHaveLength(2);
    expect((await cli(['agents', 'keys', 'remove', agent.id, keys[0]!.kid, '-y'])).code).toBe(0);
    // the last active key cannot be removed: conflict, exit 5
    const last = await cli(['--json', 'agents', 'keys', 'remove', agent.id, keys[1]!.kid, '-y']);
    expect(last.code).toBe(5);
    expect(JSON.parse(last.stderr)).toMatchObject({ exit_code: 5, error: { status: 409 } });

    expect((await cli(['agents', 'keys', 'list', '00000000-0000-4000-8000-000000000000'])).code).toBe(3);
  });

  it('remove takes a key id that begins with "-" (1 in 64 thumbprints do)', async () => {
    const agent = await client.agents.create({ name: 'cli-dash-kid', scopes: [] });
    let publicKey = '';
    let kid = '';
    while (!kid.startsWith('-') || kid.startsWith('-y')) {
      const raw = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).subarray(12).toString('base64url');
      publicKey = raw;
      kid = createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${raw}"}`).digest('base64url');
    }
    const added = await cli(['--json', 'agents', 'keys', 'add', agent.id, '--public-key', publicKey]);
    expect(added.code).toBe(0);
    expect(json(added).kid).toBe(kid);
    const removed = await cli(['--json', 'agents', 'keys', 'remove', agent.id, kid, '--yes']);
    expect(removed.code).toBe(0);
    expect(json(removed)).toMatchObject({ kid, status: 'revoked' });
    expect((await cli(['agents', 'keys', 'remove', agent.id, '-VQx', '--yes'])).code).toBe(3); // a kid, not the version flag
    expect((await cli(['agents', 'keys', 'add'])).code).toBe(2);
  });
});

describe('sessions', () => {
  let agentId: string;
  let s1: OpenedSession;
  let s2: OpenedSession;

  beforeAll(async () => {
    const agent = await client.agents.create({ name: 'cli-sessions', scopes: ['payments:read'] });
    agentId = agent.id;
    const creds = AgentCredentials.fromSecret(agent.secret!, { baseUrl: server.url });
    s1 = await creds.openSession({ scopes: ['payments:read'], maxOperations: 2, purpose: 'first' });
    s2 = await creds.openSession({ scopes: ['payments:read'], purpose: 'second' });
    await client.sessions.recordOperation(s1.id, { scope: 'payments:read' });
  });

  it('list (table and --json, filters), get', async () => {
    const all = await cli(['--json', 'sessions', 'list', '--agent', agentId]);
    expect(all.code).toBe(0);
    const data = json(all) as Array<Record<string, unknown>>;
    expect(data.map((s) => s.id)).toEqual([s1.id, s2.id]);
    expect(data[0]).toMatchObject({ agentId, operationsUsed: 1, maxOperations: 2, status: 'active', purpose: 'first', endedAt: null });
    expect(data[0]).not.toHaveProperty('accessToken');

    const table = await cli(['sessions', 'list', '--agent', agentId]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+AGENT\s+STATUS\s+OPS/);
    expect(table.stdout).toContain('1/2');

    const limited = await cli(['--json', 'sessions', 'list', '--agent', agentId, '--limit', '1']);
    expect(json(limited)).toHaveLength(1);

    const got = await cli(['sessions', 'get', s1.id]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^Operations:\s+1 of 2$/m);
    expect(got.stdout).toMatch(/^Purpose:\s+first$/m);

    expect((await cli(['sessions', 'get', 'nope'])).code).toBe(3);
    expect((await cli(['sessions', 'list', '--status', 'sleeping'])).code).toBe(2);
    const none = await cli(['sessions', 'list', '--agent', agentId, '--status', 'expired']);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('No sessions found.');
  });

  it('end: confirmation, --yes, the token stops working, reader keys are refused', async () => {
    expect((await cli(['sessions', 'end', s2.id])).code).toBe(2); // no terminal, no --yes

    const reader = await server.createApiKey('reader');
    const denied = await cli(['sessions', 'end', s2.id, '--yes'], { CERTUSORDO_API_KEY: reader });
    expect(denied.code).toBe(4);

    const ended = await cli(['--json', 'sessions', 'end', s2.id, '--yes']);
    expect(ended.code).toBe(0);
    expect(json(ended)).toMatchObject({ id: s2.id, status: 'ended', endReason: 'ended_by_api_key' });
    expect((await client.introspect(s2.accessToken)).active).toBe(false);

    const shown = await cli(['sessions', 'get', s2.id]);
    expect(shown.stdout).toMatch(/^Ended:\s+\S+ \S+ \(ended_by_api_key\)$/m);
    const active = await cli(['--json', 'sessions', 'list', '--agent', agentId, '--status', 'active']);
    expect((json(active) as Array<{ id: string }>).map((s) => s.id)).toEqual([s1.id]);
  });
});

describe('provider install', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-cli-provider-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const executable = (mirror: string, version: string) =>
    path.join(mirror, 'registry.terraform.io/certusordo/certusordo', version, 'linux_amd64', `terraform-provider-certusordo_v${version}`);

  it('writes the mirror layout and prints the filesystem_mirror config', async () => {
    const mirror = path.join(dir, 'mirror');
    const r = await cli(['provider', 'install', '--mirror', mirror], { CERTUSORDO_API_KEY: undefined, CERTUSORDO_ENDPOINT: undefined });
    expect(r.code).toBe(0);
    const exe = executable(mirror, VERSION);
    expect(fs.existsSync(exe)).toBe(true);
    expect(fs.statSync(exe).mode & 0o111).toBe(0o111);
    expect(() => fs.accessSync(exe, fs.constants.X_OK)).not.toThrow();
    // The wrapper runs the copy installed into the mirror, not the build it came from.
    const installed = path.join(mirror, '.certusordo-runtime', VERSION, 'src/main.js');
    expect(fs.readFileSync(exe, 'utf8')).toContain(installed);
    expect(fs.readFileSync(installed, 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'dist/provider-bridge/src/main.js'), 'utf8'));
    expect(r.stdout).toContain('filesystem_mirror');
    expect(r.stdout).toContain(`path    = ${JSON.stringify(mirror)}`);
    expect(r.stderr).toContain(`Installed terraform-provider-certusordo v${VERSION} at ${exe}`);
  });

  it('--version, --write-config, --dev-overrides, --json; bad version is a usage error', async () => {
    const mirror = path.join(dir, 'm2');
    const rc = path.join(dir, 'not-yet', 'certusordo.tfrc'); // its folder is created
    const r = await cli(['provider', 'install', '--mirror', mirror, '--version', '1.2.3', '--write-config', rc]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(fs.statSync(executable(mirror, '1.2.3')).mode & 0o111).toBe(0o111);
    expect(fs.readFileSync(rc, 'utf8')).toContain('filesystem_mirror');
    expect(r.stderr).toContain(`  export TF_CLI_CONFIG_FILE=${rc}\n`);
    expect(r.stderr).toContain('"Incomplete lock file\ninformation for providers" is expected');

    const dev = await cli(['--json', 'provider', 'install', '--mirror', mirror, '--version', '1.2.3', '--dev-overrides']);
    expect(dev.code).toBe(0);
    const report = json(dev);
    expect(report).toMatchObject({ version: '1.2.3', mirrorDir: mirror, executable: executable(mirror, '1.2.3'), configFile: null });
    expect(report.config).toContain('dev_overrides');
    expect(dev.stderr).toBe('');

    expect((await cli(['provider', 'install', '--mirror', mirror, '--version', 'latest'])).code).toBe(2);
    // -V still prints the CLI's version under `provider`
    expect((await cli(['provider', '-V'])).stdout.trim()).toBe(VERSION);
  });
});
