/**
 * examples/terraform/quickstart: the three commands of its README, run as written by bash (from
 * the repository root, with HOME in a temp dir so the mirror and CLI config land there), against a
 * real control plane on PostgreSQL; then a clean plan, a key rotation and a destroy. The only
 * substitutions: the API key placeholder, and the module's folder is a fresh copy of it (so
 * `.terraform/` and the state never land in the checkout).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CertusOrdoClient } from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';
import { ROOT, describeWithTerraform, ensureProviderBuilt } from './support/terraform';

const QUICKSTART = path.join(ROOT, 'examples/terraform/quickstart');

/** The README's one `sh` block. */
function readmeCommands(): string {
  const blocks = [...fs.readFileSync(path.join(QUICKSTART, 'README.md'), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

interface Run { code: number | null; stdout: string; out: string }

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv, input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env });
    let out = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, out }));
    child.stdin.end(input);
  });
}

describeWithTerraform('the Terraform quickstart', () => {
  let server: TestServer;
  let root: string;
  beforeAll(async () => {
    ensureProviderBuilt();
    server = await startTestServer();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-quickstart-'));
  }, 180_000);
  afterAll(async () => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  it('is three commands; they apply it, a plan is clean, a rotation keeps the agent, destroy revokes', async () => {
    const commands = readmeCommands();
    expect(commands.trim().split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'))).toHaveLength(3);
    const moduleDir = path.join(root, 'quickstart');
    fs.cpSync(QUICKSTART, moduleDir, { recursive: true });
    const home = path.join(root, 'home');
    fs.mkdirSync(home);
    const script = commands.replace('CERTUSORDO_API_KEY=aa_…', `CERTUSORDO_API_KEY=${server.apiKey}`).replace('cd examples/terraform/quickstart', `cd ${moduleDir}`);
    expect(script).not.toBe(commands);
    expect(script).toContain(`cd ${moduleDir}`);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, TMPDIR: process.env.TMPDIR, CHECKPOINT_DISABLE: '1', CERTUSORDO_ENDPOINT: server.url };

    // `terraform apply` asks; the user types yes.
    const applied = await bash(script, ROOT, env, 'yes\n');
    expect({ code: applied.code, tail: applied.code === 0 ? '' : applied.out.slice(-4000) }).toEqual({ code: 0, tail: '' });
    expect(applied.out).toContain('Terraform has been successfully initialized');
    expect(applied.out).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
    expect(fs.existsSync(path.join(home, '.terraform.d/certusordo.tfrc'))).toBe(true);

    // What the README says comes next, in the same shell setup.
    const tf = (args: string) => bash(`export TF_CLI_CONFIG_FILE=~/.terraform.d/certusordo.tfrc CERTUSORDO_API_KEY=${server.apiKey}\nterraform ${args}`, moduleDir, env);
    const outputs = JSON.parse((await tf('output -json')).stdout) as Record<string, { value: unknown; sensitive: boolean }>;
    expect(outputs.inactive_agents!.value).toEqual(['quickstart-billing', 'quickstart-reports', 'quickstart-support']);
    expect(outputs.billing_secret!.sensitive).toBe(true);
    const ids = outputs.agent_ids!.value as Record<string, string>;
    const firstSecret = outputs.billing_secret!.value as string;
    expect(firstSecret).toMatch(new RegExp(`^cos_${ids.billing}_[A-Za-z0-9_-]{43}$`));

    const sdk = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
    const billing = await sdk.agents.get(ids.billing!);
    expect(billing).toMatchObject({ name: 'quickstart-billing', scopes: ['billing:read', 'billing:write'], status: 'active', metadata: { managed_by: 'terraform', example: 'quickstart' } });
    expect(await sdk.agents.keys.list(ids.billing!)).toHaveLength(2); // the agent's own key and the managed one

    const plan = await tf('plan -detailed-exitcode -no-color');
    expect({ code: plan.code, out: plan.code === 0 ? '' : plan.out }).toEqual({ code: 0, out: '' });
    expect(plan.out).toContain('No changes.');

    const rotated = await tf('apply -auto-approve -no-color -var key_rotation=2027-01');
    expect({ code: rotated.code, out: rotated.code === 0 ? '' : rotated.out }).toEqual({ code: 0, out: '' });
    expect(rotated.out).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
    const after = JSON.parse((await tf('output -json')).stdout) as Record<string, { value: unknown }>;
    expect((after.agent_ids!.value as Record<string, string>).billing).toBe(ids.billing);
    expect(after.billing_secret!.value).not.toBe(firstSecret);
    expect((await sdk.agents.keys.list(ids.billing!)).map((k) => k.status).sort()).toEqual(['active', 'active', 'revoked']);

    const destroyed = await tf('destroy -auto-approve -no-color -var key_rotation=2027-01');
    expect({ code: destroyed.code, out: destroyed.code === 0 ? '' : destroyed.out }).toEqual({ code: 0, out: '' });
    for (const id of Object.values(ids)) expect((await sdk.agents.get(id)).status).toBe('revoked');
  }, 600_000);
});
