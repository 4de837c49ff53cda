/**
 * The endpoint policy through the real terraform: plain http off loopback is refused with a
 * diagnostic on `endpoint` before the provider opens any connection; the opt-in (`insecure = true`
 * or CERTUSORDO_INSECURE=1) lets it through. The provider process runs under the net guard, so
 * every connection it attempts is recorded and none can leave loopback: the "non-loopback" host
 * of the opt-in tests is a name the guard resolves to the test control plane on 127.0.0.1.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestServer, type TestServer } from '../support/server';
import { TERRAFORM_BLOCK, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';
import { netGuardEnv, type NetEvent } from './support/net-guard';

jest.setTimeout(180_000);

const MAPPED_HOST = 'control-plane.test';

describeWithTerraform('provider endpoint policy with terraform', () => {
  let server: TestServer;
  let root: string;
  let cliConfig: string;
  let mappedUrl: string;

  beforeAll(async () => {
    ensureProviderBuilt();
    server = await startTestServer();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-endpoint-'));
    cliConfig = installForTests(root);
    mappedUrl = server.url.replace('127.0.0.1', MAPPED_HOST);
  });
  afterAll(async () => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  interface Run {
    code: number;
    /** stdout + stderr on single-spaced lines (terraform wraps diagnostic text). */
    text: string;
    raw: string;
    net: NetEvent[];
  }

  async function run(command: 'plan' | 'validate', providerBody: string, env: Record<string, string | undefined> = {}): Promise<Run> {
    const guard = netGuardEnv(root, { [MAPPED_HOST]: '127.0.0.1' });
    // Endpoint and key come from the provider block or `env`; the workspace defaults are cleared.
    const ws = new TfWorkspace(cliConfig, { endpoint: '', apiKey: server.apiKey }, guard.env);
    try {
      ws.write({
        'main.tf': `${TERRAFORM_BLOCK}\nprovider "certusordo" {\n${providerBody}\n}\n\nresource "certusordo_agent" "x" {\n  name = "endpoint-policy"\n}\n`,
      });
      await ws.must(['init', '-no-color']);
      const res = await ws.run([command, '-no-color', ...(command === 'plan' ? ['-input=false'] : [])], env);
      return { code: res.code, raw: res.all, text: res.all.replace(/\s*\n[│\s]*/g, ' '), net: guard.events() };
    } finally {
      ws.cleanup();
    }
  }

  const expectRefused = (r: Run): void => {
    expect(r.code).toBe(1);
    expect(r.text).toContain('Error: Insecure endpoint');
    expect(r.text).toMatch(/uses plain http:\/\/ to a host that is not loopback/);
    expect(r.text).toContain('`insecure = true`');
    expect(r.text).toContain('CERTUSORDO_INSECURE=1');
    expect(r.raw).not.toContain(server.apiKey);
    // The provider did not even try: no lookup, no TCP connection of any kind.
    expect(r.net).toEqual([]);
  };

  it('plan with endpoint = "http://10.0.0.1:1" fails on `endpoint` without any connection attempt', async () => {
    const r = await run('plan', '  endpoint = "http://10.0.0.1:1"');
    expectRefused(r);
    expect(r.text).toContain('endpoint = "http://10.0.0.1:1"'); // terraform points at the attribute
  });

  it('the same endpoint from CERTUSORDO_ENDPOINT is refused too', async () => {
    const r = await run('plan', '', { CERTUSORDO_ENDPOINT: 'http://10.0.0.1:1' });
    expectRefused(r);
    expect(r.text).toContain('CERTUSORDO_ENDPOINT (http://10.0.0.1:1)');
  });

  it('terraform validate reports it offline, and accepts it with insecure = true', async () => {
    expectRefused(await run('validate', '  endpoint = "http://10.0.0.1:1"'));
    const ok = await run('validate', '  endpoint = "http://10.0.0.1:1"\n  insecure = true');
    expect(ok.code).toBe(0);
    expect(ok.text).toContain('The configuration is valid');
    expect(ok.net).toEqual([]);
  });

  it('a non-loopback name is refused without the opt-in and planned against with insecure = true', async () => {
    expectRefused(await run('plan', `  endpoint = "${mappedUrl}"`));

    const ok = await run('plan', `  endpoint = "${mappedUrl}"\n  insecure = true`);
    expect(ok.code).toBe(0);
    expect(ok.text).toContain('Plan: 1 to add');
    // ConfigureProvider's probe reached the control plane through the mapped name, on loopback only.
    expect(ok.net.filter((e) => e.kind === 'lookup').map((e) => e.host)).toContain(MAPPED_HOST);
    expect(ok.net.filter((e) => e.kind === 'connect').length).toBeGreaterThan(0);
    expect(ok.net.filter((e) => e.blocked)).toEqual([]);
  });

  it('CERTUSORDO_INSECURE=1 opts in; insecure = false in the block overrides it', async () => {
    const viaEnv = await run('plan', `  endpoint = "${mappedUrl}"`, { CERTUSORDO_INSECURE: '1' });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.text).toContain('Plan: 1 to add');
    expectRefused(await run('plan', `  endpoint = "${mappedUrl}"\n  insecure = false`, { CERTUSORDO_INSECURE: '1' }));
  });

  it('loopback over plain http needs no opt-in', async () => {
    const r = await run('plan', `  endpoint = "${server.url}"`);
    expect(r.code).toBe(0);
    expect(r.text).toContain('Plan: 1 to add');
    expect(r.net.filter((e) => e.blocked)).toEqual([]);
  });

  it('credentials in the endpoint URL are refused and never printed, from the block or the environment', async () => {
    const withUser = server.url.replace('http://', 'http://deploy:hunter2-pw@');
    for (const r of [await run('plan', '', { CERTUSORDO_ENDPOINT: withUser }), await run('plan', `  endpoint = "${withUser}"`)]) {
      expect(r.code).toBe(1);
      expect(r.text).toContain('Error: Credentials in endpoint URL');
      // No attribute path, so terraform does not quote the source line that holds the password.
      expect(r.raw).not.toMatch(/hunter2|deploy/);
      expect(r.net).toEqual([]);
    }
  });
});
