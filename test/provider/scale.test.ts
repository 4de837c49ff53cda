/** 200 agents with -parallelism=10: no protocol violations, quiet re-plan, and destroy revokes all. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestServer, type TestServer } from '../support/server';
import { RestClient } from '../../provider-bridge/src/client/rest-client';
import { PROTOCOL_VIOLATIONS, PROVIDER_BLOCK, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';

jest.setTimeout(600_000);

describeWithTerraform('provider at scale with terraform', () => {
  let server: TestServer;
  let root: string;

  beforeAll(async () => {
    ensureProviderBuilt();
    server = await startTestServer();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-scale-'));
  });
  afterAll(async () => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  it('applies and destroys 200 agents with -parallelism=10', async () => {
    const ws = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey });
    try {
      ws.write({
        'main.tf': `${PROVIDER_BLOCK}
resource "certusordo_agent" "fleet" {
  count    = 200
  name     = "fleet-\${count.index}"
  scopes   = count.index % 2 == 0 ? ["fleet:read"] : ["fleet:read", "fleet:write"]
  metadata = { index = tostring(count.index) }
  status   = count.index % 10 == 0 ? "suspended" : null
}
`,
      });
      await ws.must(['init', '-no-color']);
      const apply = await ws.must(['apply', '-auto-approve', '-no-color', '-parallelism=10']);
      expect(apply.all).not.toMatch(PROTOCOL_VIOLATIONS);
      expect(apply.stdout).toContain('Apply complete! Resources: 200 added, 0 changed, 0 destroyed.');

      const api = new RestClient({ endpoint: server.url, apiKey: server.apiKey });
      const live = [];
      for await (const a of api.listAgents({ name_prefix: 'fleet-' })) live.push(a);
      expect(live).toHaveLength(200); // no duplicate creates
      expect(live.filter((a) => a.status === 'suspended')).toHaveLength(20);

      const plan = await ws.must(['plan', '-no-color', '-detailed-exitcode', '-parallelism=10'], [0]);
      expect(plan.all).not.toMatch(PROTOCOL_VIOLATIONS);

      const destroy = await ws.must(['destroy', '-auto-approve', '-no-color', '-parallelism=10']);
      expect(destroy.all).not.toMatch(PROTOCOL_VIOLATIONS);
      expect(destroy.stdout).toContain('Destroy complete! Resources: 200 destroyed.');
      const left = [];
      for await (const a of api.listAgents({ name_prefix: 'fleet-' })) if (a.status !== 'revoked') left.push(a);
      expect(left).toEqual([]);
    } finally {
      ws.cleanup();
    }
  });
});
