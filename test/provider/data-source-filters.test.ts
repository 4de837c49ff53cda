/**
 * With the real terraform: the certusordo_agents filters (status, never_authenticated,
 * inactive_since, name_prefix) against the REST list, their plan-time validation, and the warning a
 * plan carries for an agent suspended at runtime whose status the configuration leaves alone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentCredentials, CertusOrdoClient } from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';
import { PROTOCOL_VIOLATIONS, PROVIDER_BLOCK, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';

jest.setTimeout(300_000);

describeWithTerraform('certusordo_agents filters and the suspension warning', () => {
  let server: TestServer;
  let sdk: CertusOrdoClient;
  let root: string;
  let ws: TfWorkspace;

  beforeAll(async () => {
    ensureProviderBuilt();
    server = await startTestServer();
    sdk = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-flt-'));
    ws = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey });
  });

  afterAll(async () => {
    ws?.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  it('filters by status, never_authenticated, inactive_since and name_prefix, and validates at plan time', async () => {
    const idle = await sdk.agents.create({ name: 'flt-idle' });
    const used = await sdk.agents.create({ name: 'flt-used', scopes: ['x:read'] });
    const parked = await sdk.agents.create({ name: 'flt-parked' });
    await sdk.agents.create({ name: 'other-idle' });
    await sdk.agents.suspend(parked.id);
    const beforeAuth = new Date().toISOString();
    await AgentCredentials.fromSecret(used.secret!, { baseUrl: server.url }).getToken();
    expect((await sdk.agents.get(used.id)).lastAuthAt).not.toBeNull();

    const names = (filters: Record<string, string>): string =>
      Object.entries(filters)
        .map(
          ([name, body]) => `
data "certusordo_agents" "${name}" {
  ${body}
}
output "${name}" {
  value = sort([for a in data.certusordo_agents.${name}.agents : a.name])
}`,
        )
        .join('\n');
    ws.write({
      'main.tf': `${PROVIDER_BLOCK}${names({
        never: 'name_prefix = "flt-"\n  never_authenticated = true',
        never_false: 'name_prefix = "flt-"\n  never_authenticated = false',
        stale_before: `name_prefix = "flt-"\n  inactive_since = "${beforeAuth}"`,
        stale_future: 'name_prefix = "flt-"\n  inactive_since = timeadd(plantimestamp(), "1h")',
        suspended: 'name_prefix = "flt-"\n  status = "suspended"',
        active_never: 'status = "active"\n  never_authenticated = true',
      })}`,
    });
    await ws.must(['init', '-no-color']);
    const res = await ws.must(['apply', '-auto-approve', '-no-color']);
    expect(res.all).not.toMatch(PROTOCOL_VIOLATIONS);
    const outputs = JSON.parse((await ws.must(['output', '-json'])).stdout) as Record<string, { value: string[] }>;
    expect(outputs.never!.value).toEqual(['flt-idle', 'flt-parked']);
    expect(outputs.never_false!.value).toEqual(['flt-idle', 'flt-parked', 'flt-used']);
    expect(outputs.stale_before!.value).toEqual(['flt-idle', 'flt-parked']);
    expect(outputs.stale_future!.value).toEqual(['flt-idle', 'flt-parked', 'flt-used']);
    expect(outputs.suspended!.value).toEqual(['flt-parked']);
    expect(outputs.active_never!.value).toEqual(['flt-idle', 'other-idle']);
    expect(idle.id).toBeTruthy();

    // Invalid filters are reported against the attribute before any request.
    ws.write({
      'main.tf': `${PROVIDER_BLOCK}${names({ bad_time: 'inactive_since = "yesterday"', bad_status: 'status = "gone"' })}`,
    });
    const bad = await ws.run(['validate', '-no-color']);
    expect(bad.code).toBe(1);
    expect(bad.all).toContain('Invalid inactive_since filter');
    expect(bad.all).toMatch(/inactive_since = "yesterday"/);
    expect(bad.all).toContain('Invalid status filter');
  });

  it('warns in the plan about an agent suspended at runtime, and plans no change', async () => {
    const w = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey });
    try {
      const main = (status?: string) => `${PROVIDER_BLOCK}
resource "certusordo_agent" "worker" {
  name = "susp-worker"
  ${status ? `status = "${status}"` : ''}
}
resource "certusordo_agent" "calm" {
  name = "susp-calm"
}
`;
      w.write({ 'main.tf': main() });
      await w.must(['init', '-no-color']);
      await w.must(['apply', '-auto-approve', '-no-color']);
      const quiet = await w.must(['plan', '-no-color', '-detailed-exitcode'], [0]);
      expect(quiet.all).not.toContain('is suspended');

      const id = (w.state().resources.find((r) => r.name === 'worker')!.instances[0]!.attributes as { id: string }).id;
      await sdk.agents.suspend(id, 'incident 42');
      const plan = await w.must(['plan', '-no-color', '-detailed-exitcode'], [0]);
      expect(plan.stdout).toContain('No changes.');
      expect(plan.all).toContain('Warning: Agent "susp-worker" is suspended');
      expect(plan.all).toContain(id);
      expect(plan.all).not.toContain('susp-calm" is suspended');

      // With status set, Terraform enforces it: a suspended agent configured as suspended is no news.
      w.write({ 'main.tf': main('suspended') });
      const enforced = await w.must(['plan', '-no-color', '-detailed-exitcode'], [0]);
      expect(enforced.all).not.toContain('is suspended');
      await w.must(['destroy', '-auto-approve', '-no-color']);
    } finally {
      w.cleanup();
    }
  });
});
