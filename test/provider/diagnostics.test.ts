/** Bad configuration through the real terraform: each diagnostic names the attribute and the fix. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestServer, type TestServer } from '../support/server';
import { PROVIDER_BLOCK, TERRAFORM_BLOCK, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';

jest.setTimeout(120_000);

describeWithTerraform('provider diagnostics with terraform', () => {
  let server: TestServer;
  let root: string;
  let cliConfig: string;

  beforeAll(async () => {
    ensureProviderBuilt();
    server = await startTestServer();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-diag-'));
    cliConfig = installForTests(root);
  });
  afterAll(async () => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  /** `hcl` is appended to the provider block, or to the bare terraform block when it has its own. */
  async function planWith(hcl: string, env: Record<string, string | undefined> = {}) {
    const ws = new TfWorkspace(cliConfig, { endpoint: server.url, apiKey: server.apiKey });
    try {
      ws.write({ 'main.tf': `${hcl.includes('provider "certusordo"') ? TERRAFORM_BLOCK : PROVIDER_BLOCK}\n${hcl}` });
      await ws.must(['init', '-no-color']);
      const res = await ws.run(['plan', '-no-color', '-input=false'], env);
      // Terraform wraps diagnostic text; compare on single-spaced text.
      return { ...res, stderr: res.stderr.replace(/\s*\n[│\s]*/g, ' ') };
    } finally {
      ws.cleanup();
    }
  }

  it('empty name', async () => {
    const res = await planWith('resource "certusordo_agent" "x" {\n  name = ""\n}\n');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Error: Invalid agent name');
    expect(res.stderr).toContain('name = ""'); // terraform points at the attribute
    expect(res.stderr).toMatch(/Name must not be empty\. Use 1-64 characters/);
  });

  it('bad scope', async () => {
    const res = await planWith('resource "certusordo_agent" "x" {\n  name   = "ok"\n  scopes = ["Payments:Read"]\n}\n');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Error: Invalid agent scope');
    expect(res.stderr).toContain('scopes = ["Payments:Read"]');
    expect(res.stderr).toMatch(/resource:action/);
  });

  it('wrong api_key names api_key and how to fix it, without printing the key', async () => {
    const wrong = 'aa_this_key_does_not_exist_0123456789';
    const res = await planWith(
      'variable "key" {\n  type      = string\n  sensitive = true\n}\nprovider "certusordo" {\n  api_key = var.key\n}\nresource "certusordo_agent" "x" {\n  name = "ok"\n}\n',
      { TF_VAR_key: wrong },
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Error: Invalid CertusOrdo API key');
    expect(res.stderr).toContain('api_key = var.key');
    expect(res.stderr).toMatch(/Set `api_key`/);
    expect(res.all).not.toContain(wrong);
  });

  it('missing api key', async () => {
    const res = await planWith('resource "certusordo_agent" "x" {\n  name = "ok"\n}\n', { CERTUSORDO_API_KEY: '' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Error: Missing API key');
    expect(res.stderr).toContain('CERTUSORDO_API_KEY');
  });

  it('unreachable endpoint names endpoint', async () => {
    const res = await planWith('resource "certusordo_agent" "x" {\n  name = "ok"\n}\n', { CERTUSORDO_ENDPOINT: 'http://127.0.0.1:1' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Error: Cannot reach the CertusOrdo control plane');
    expect(res.stderr).toMatch(/Check `endpoint`/);
  });

  it('invalid endpoint URL in config', async () => {
    const res = await planWith('resource "certusordo_agent" "x" {\n  name = "ok"\n}\n', { CERTUSORDO_ENDPOINT: 'not a url' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Error: Invalid endpoint');
  });
});
