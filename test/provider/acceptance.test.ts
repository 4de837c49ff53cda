/**
 * Acceptance: the real terraform binary drives the provider against a real control plane.
 * create → no-op plan → update in place → runtime drift → revoke drift → import-verify →
 * outputs/secret handling → destroy revokes everything.
 */
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestServer, type TestServer } from '../support/server';
import { RestClient } from '../../provider-bridge/src/client/rest-client';
import { providerSchemaJson } from '../../provider-bridge/src/schema-json';
import {
  PROTOCOL_VIOLATIONS,
  PROVIDER_BLOCK,
  TfWorkspace,
  describeWithTerraform,
  ensureProviderBuilt,
  installForTests,
} from './support/terraform';

jest.setTimeout(480_000);

function ed25519PublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  return publicKey.export({ format: 'jwk' }).x as string;
}

interface Attrs {
  id: string;
  name: string;
  secret: string | null;
  public_key: string;
  status: string;
  scopes: string[];
  metadata: Record<string, string>;
  [k: string]: unknown;
}

describeWithTerraform('certusordo provider with terraform', () => {
  let server: TestServer;
  let api: RestClient;
  let root: string;
  let ws: TfWorkspace;
  const broughtKey = ed25519PublicKey();
  /** Everything terraform printed during the test, to prove secrets never appear. */
  const transcript: string[] = [];

  const config = (opts: { aScopes: string; aMeta: string; cStatus?: string; extra?: string }) => `${PROVIDER_BLOCK}
resource "certusordo_agent" "a" {
  name     = "acc-alpha"
  scopes   = ${opts.aScopes}
  metadata = ${opts.aMeta}
}

resource "certusordo_agent" "b" {
  name       = "acc-beta"
  public_key = "${broughtKey}"
  scopes     = ["reports:read"]
}

resource "certusordo_agent" "c" {
  name = "acc-gamma"
  ${opts.cStatus ? `status = "${opts.cStatus}"` : ''}
}
${opts.extra ?? ''}
data "certusordo_agent" "by_name" {
  name = certusordo_agent.a.name
}

data "certusordo_agents" "acc" {
  name_prefix = "acc-"
  depends_on  = [certusordo_agent.a, certusordo_agent.b, certusordo_agent.c]
}

output "a_id" {
  value = certusordo_agent.a.id
}

output "a_secret" {
  value     = certusordo_agent.a.secret
  sensitive = true
}

output "lookup_scopes" {
  value = data.certusordo_agent.by_name.scopes
}

output "acc_names" {
  value = sort([for x in data.certusordo_agents.acc.agents : x.name])
}
`;

  const tf = async (args: string[], ok: number[] = [0]) => {
    const res = await ws.must(args, ok);
    // `output -json` is the one command meant to reveal a sensitive output's value.
    if (args[0] !== 'output') transcript.push(res.all);
    expect(res.all).not.toMatch(PROTOCOL_VIOLATIONS);
    return res;
  };
  const attrs = (name: string): Attrs => {
    const r = ws.state().resources.find((x) => x.mode === 'managed' && x.name === name);
    if (!r) throw new Error(`no ${name} in state`);
    return r.instances[0]!.attributes as Attrs;
  };

  beforeAll(async () => {
    ensureProviderBuilt();
    server = await startTestServer();
    api = new RestClient({ endpoint: server.url, apiKey: server.apiKey });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-acc-'));
    ws = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey });
  });

  afterAll(async () => {
    ws?.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  it('runs the whole lifecycle', async () => {
    ws.write({ 'main.tf': config({ aScopes: '["payments:read", "payments:write"]', aMeta: '{ team = "payments" }' }) });

    // init works offline from the filesystem mirror and pins the provider in the lock file.
    await tf(['init', '-no-color']);
    expect(fs.readFileSync(path.join(ws.dir, '.terraform.lock.hcl'), 'utf8')).toContain('registry.terraform.io/certusordo/certusordo');

    // The exported JSON schema is exactly what terraform itself reports.
    const schema = await tf(['providers', 'schema', '-json']);
    expect(JSON.parse(schema.stdout)).toEqual(providerSchemaJson());

    const plan1 = await tf(['plan', '-no-color', '-detailed-exitcode'], [2]);
    expect(plan1.stdout).toContain('Plan: 3 to add, 0 to change, 0 to destroy.');

    await tf(['apply', '-auto-approve', '-no-color']);
    const a = attrs('a');
    const b = attrs('b');
    const c = attrs('c');
    expect(a.secret).toMatch(new RegExp(`^cos_${a.id}_`));
    expect(b.secret).toBeNull();
    expect(b.public_key).toBe(broughtKey);
    expect(c.status).toBe('active');
    expect(c.scopes).toEqual([]);
    expect(c.metadata).toEqual({});
    expect((await api.getAgent(a.id)).scopes.sort()).toEqual(['payments:read', 'payments:write']);

    // Outputs: the secret only in the output declared sensitive.
    const outputs = JSON.parse((await tf(['output', '-json'])).stdout) as Record<string, { sensitive: boolean; value: unknown }>;
    expect(outputs.a_secret).toEqual(expect.objectContaining({ sensitive: true, value: a.secret }));
    for (const [name, o] of Object.entries(outputs)) if (name !== 'a_secret') expect(JSON.stringify(o)).not.toContain(a.secret!);
    expect(outputs.lookup_scopes!.value).toEqual(['payments:read', 'payments:write']);
    expect(outputs.acc_names!.value).toEqual(['acc-alpha', 'acc-beta', 'acc-gamma']);

    // Nothing changed → empty plan.
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);

    // In-place updates: scopes, metadata, status.
    ws.write({ 'main.tf': config({ aScopes: '["payments:read", "billing:*"]', aMeta: '{ team = "billing", tier = "gold" }', cStatus: 'suspended' }) });
    const plan2 = await tf(['plan', '-no-color', '-detailed-exitcode'], [2]);
    expect(plan2.stdout).toContain('Plan: 0 to add, 2 to change, 0 to destroy.');
    await tf(['apply', '-auto-approve', '-no-color']);
    expect(attrs('a').id).toBe(a.id);
    expect(attrs('a').secret).toBe(a.secret); // the one-time secret survives updates
    const aRemote = await api.getAgent(a.id);
    expect(aRemote.scopes.sort()).toEqual(['billing:*', 'payments:read']);
    expect(aRemote.metadata).toEqual({ team: 'billing', tier: 'gold' });
    expect((await api.getAgent(c.id)).status).toBe('suspended');
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);

    // Runtime suspension of an agent whose status is not configured is kept.
    await api.suspendAgent(b.id, 'incident');
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);
    await tf(['apply', '-auto-approve', '-no-color']);
    expect((await api.getAgent(b.id)).status).toBe('suspended');
    expect(attrs('b').status).toBe('suspended');

    // A configured status is enforced against runtime changes.
    await api.activateAgent(c.id);
    const enforce = await tf(['plan', '-no-color', '-detailed-exitcode'], [2]);
    expect(enforce.stdout).toMatch(/status\s+= "active" -> "suspended"/);
    await tf(['apply', '-auto-approve', '-no-color']);
    expect((await api.getAgent(c.id)).status).toBe('suspended');

    // Revoked outside Terraform → replacement.
    await api.revokeAgent(c.id, 'compromised');
    const replace = await tf(['plan', '-no-color', '-detailed-exitcode'], [2]);
    expect(replace.stdout).toContain('certusordo_agent.c must be replaced');
    expect(replace.stdout).toContain('Plan: 1 to add, 0 to change, 1 to destroy.');
    await tf(['apply', '-auto-approve', '-no-color']);
    const c2 = attrs('c');
    expect(c2.id).not.toBe(c.id);
    expect(c2.status).toBe('suspended');
    expect((await api.getAgent(c2.id)).status).toBe('suspended');
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);

    // Import-verify: forget `a`, import it by id; everything but the one-time secret matches.
    const before = attrs('a');
    await tf(['state', 'rm', '-no-color', 'certusordo_agent.a']);
    await tf(['import', '-no-color', 'certusordo_agent.a', a.id]);
    const imported = attrs('a');
    const { secret: _s1, last_auth_at: _l1, ...restBefore } = before;
    const { secret: importedSecret, last_auth_at: _l2, ...restImported } = imported;
    expect(importedSecret).toBeNull();
    expect(restImported).toEqual(restBefore);
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);

    // Import of an agent created outside Terraform, then an empty plan.
    const outside = await api.createAgent({ name: 'acc-outside', scopes: ['audit:read'], metadata: { owner: 'ops' } });
    ws.write({
      'main.tf': config({
        aScopes: '["payments:read", "billing:*"]',
        aMeta: '{ team = "billing", tier = "gold" }',
        cStatus: 'suspended',
        extra: `
resource "certusordo_agent" "outside" {
  name     = "acc-outside"
  scopes   = ["audit:read"]
  metadata = { owner = "ops" }
}
`,
      }),
    });
    await tf(['import', '-no-color', 'certusordo_agent.outside', outside.id]);
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);

    // Secrets never reach terraform's console output.
    const printed = transcript.join('\n');
    expect(printed).not.toContain(a.secret!);
    expect(printed).not.toContain(server.apiKey);
    expect(printed).not.toContain(outside.secret!);

    // Destroy revokes every agent (including the one replaced earlier, revoked out of band).
    const ids = [a.id, b.id, c2.id, outside.id];
    await tf(['destroy', '-auto-approve', '-no-color']);
    for (const id of [...ids, c.id]) expect((await api.getAgent(id)).status).toBe('revoked');
    expect(ws.state().resources.filter((r) => r.mode === 'managed')).toEqual([]);
  });

  it('drops an agent that no longer exists (404) from state, and cannot import one', async () => {
    const ws2 = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey });
    try {
      ws2.write({ 'main.tf': `${PROVIDER_BLOCK}\nresource "certusordo_agent" "ghost" {\n  name = "acc-ghost"\n}\n` });
      await ws2.must(['init', '-no-color']);
      await ws2.must(['apply', '-auto-approve', '-no-color']);
      const realId = (ws2.state().resources[0]!.instances[0]!.attributes as { id: string }).id;
      // The API has no DELETE: point the state at an id the control plane does not know (404).
      const missing = '00000000-0000-7000-8000-000000000000';
      const statePath = path.join(ws2.dir, 'terraform.tfstate');
      fs.writeFileSync(statePath, fs.readFileSync(statePath, 'utf8').split(realId).join(missing));
      const refreshed = await ws2.must(['apply', '-refresh-only', '-auto-approve', '-no-color']);
      expect(refreshed.all).not.toMatch(PROTOCOL_VIOLATIONS);
      expect(ws2.state().resources.filter((r) => r.mode === 'managed')).toEqual([]);

      const res = await ws2.run(['import', '-no-color', 'certusordo_agent.ghost', missing]);
      expect(res.code).toBe(1);
      expect(res.all).toContain('Cannot import non-existent remote object');
      await api.revokeAgent(realId);
    } finally {
      ws2.cleanup();
    }
  });
});
