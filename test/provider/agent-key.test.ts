/**
 * certusordo_agent_key with the real terraform: rotation with create_before_destroy (same agent,
 * never zero keys, the old key refused by the token endpoint, the new one accepted), import by
 * `<agent_id>/<kid>`, and the refusal to remove an agent's last active key.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentCredentials, AuthenticationError, CertusOrdoClient } from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';
import { RestClient } from '../../provider-bridge/src/client/rest-client';
import { PROTOCOL_VIOLATIONS, PROVIDER_BLOCK, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';

jest.setTimeout(300_000);

interface KeyAttrs {
  id: string;
  agent_id: string;
  kid: string;
  public_key: string;
  secret: string | null;
  created_at: string;
  rotation_trigger: Record<string, string> | null;
}

describeWithTerraform('certusordo_agent_key with terraform', () => {
  let server: TestServer;
  let api: RestClient;
  let sdk: CertusOrdoClient;
  let root: string;
  let ws: TfWorkspace;
  const transcript: string[] = [];

  const config = (opts: { rotated?: string; current?: boolean; initial?: boolean }): string => `${PROVIDER_BLOCK}
resource "certusordo_agent" "svc" {
  name   = "key-rotation-svc"
  scopes = ["payments:read"]
}
${
  opts.current === false
    ? ''
    : `
resource "certusordo_agent_key" "current" {
  agent_id = certusordo_agent.svc.id
  rotation_trigger = { rotated = "${opts.rotated ?? '1'}" }
  lifecycle {
    create_before_destroy = true
  }
}
`
}${
    opts.initial
      ? `
resource "certusordo_agent_key" "initial" {
  agent_id = certusordo_agent.svc.id
}
`
      : ''
  }`;

  const tf = async (args: string[], ok: number[] = [0]) => {
    const res = await ws.must(args, ok);
    transcript.push(res.all);
    expect(res.all).not.toMatch(PROTOCOL_VIOLATIONS);
    return res;
  };
  const managed = (type: string, name: string) => ws.managed(type, name);
  const key = (name: string): KeyAttrs => managed('certusordo_agent_key', name) as unknown as KeyAttrs;
  const tokenWith = (secret: string): Promise<string> => AgentCredentials.fromSecret(secret, { baseUrl: server.url }).getToken();

  beforeAll(async () => {
    ensureProviderBuilt();
    server = await startTestServer();
    api = new RestClient({ endpoint: server.url, apiKey: server.apiKey });
    sdk = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-keys-'));
    ws = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey });
  });

  afterAll(async () => {
    ws?.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  it('rotates without a new agent, imports a key, and refuses to remove the last one', async () => {
    ws.write({ 'main.tf': config({ rotated: '1' }) });
    await tf(['init', '-no-color']);
    await tf(['apply', '-auto-approve', '-no-color']);
    const agent = managed('certusordo_agent', 'svc') as { id: string; public_key: string; secret: string };
    const k1 = key('current');
    expect(k1.agent_id).toBe(agent.id);
    expect(k1.secret).toMatch(new RegExp(`^cos_${agent.id}_`));
    expect(k1.id).toBe(`${agent.id}/${k1.kid}`);
    let keys = await api.listAgentKeys(agent.id);
    expect(keys.filter((k) => k.status === 'active').map((k) => k.kid).sort()).toEqual(
      [k1.kid, keys.find((k) => k.public_key === agent.public_key)!.kid].sort(),
    );
    // The API now reports the newest key as the agent's public_key; the agent resource keeps its own
    // (initial) key, so adding a key is no change to the agent.
    expect((await api.getAgent(agent.id)).public_key).toBe(k1.public_key);
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);
    expect(managed('certusordo_agent', 'svc')!.public_key).toBe(agent.public_key);
    await expect(tokenWith(k1.secret!)).resolves.toMatch(/^eyJ/);

    // Rotation: the new key is added before the old one is removed.
    ws.write({ 'main.tf': config({ rotated: '2' }) });
    const plan = await tf(['plan', '-no-color', '-detailed-exitcode'], [2]);
    expect(plan.stdout).toContain('certusordo_agent_key.current must be replaced');
    expect(plan.stdout).toContain('create replacement and then destroy');
    expect(plan.stdout).toContain('Plan: 1 to add, 0 to change, 1 to destroy.');
    await tf(['apply', '-auto-approve', '-no-color']);
    const k2 = key('current');
    expect(k2.kid).not.toBe(k1.kid);
    expect(managed('certusordo_agent', 'svc')!.id).toBe(agent.id);
    expect((await api.getAgent(agent.id)).status).toBe('active');
    keys = await api.listAgentKeys(agent.id);
    const old = keys.find((k) => k.kid === k1.kid)!;
    const added = keys.find((k) => k.kid === k2.kid)!;
    expect(old.status).toBe('revoked');
    expect(added.status).toBe('active');
    // Never zero keys: the new key existed before the old one was removed.
    expect(Date.parse(added.created_at)).toBeLessThanOrEqual(Date.parse(old.revoked_at!));
    // The old key is refused by the token endpoint, the new one works.
    await expect(tokenWith(k1.secret!)).rejects.toBeInstanceOf(AuthenticationError);
    const token = await tokenWith(k2.secret!);
    expect(await sdk.introspect(token)).toMatchObject({ active: true, sub: agent.id });
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);

    // Import by <agent_id>/<kid>: everything but the one-time secret; a first rotation_trigger is recorded.
    await tf(['state', 'rm', '-no-color', 'certusordo_agent_key.current']);
    const bad = await ws.run(['import', '-no-color', 'certusordo_agent_key.current', k2.kid]);
    expect(bad.code).toBe(1);
    expect(bad.all).toContain('Invalid import id');
    await tf(['import', '-no-color', 'certusordo_agent_key.current', `${agent.id}/${k2.kid}`]);
    const imported = key('current');
    expect(imported).toEqual({ ...k2, secret: null, rotation_trigger: null });
    const record = await tf(['plan', '-no-color', '-detailed-exitcode'], [2]);
    expect(record.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    await tf(['apply', '-auto-approve', '-no-color']);
    expect(key('current').rotation_trigger).toEqual({ rotated: '2' });
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);

    // Hand the agent's initial key over to a key resource, then retire it.
    const initialKid = keys.find((k) => k.public_key === agent.public_key)!.kid;
    ws.write({ 'main.tf': config({ rotated: '2', initial: true }) });
    await tf(['import', '-no-color', 'certusordo_agent_key.initial', `${agent.id}/${initialKid}`]);
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);
    ws.write({ 'main.tf': config({ rotated: '2' }) });
    await tf(['apply', '-auto-approve', '-no-color']);
    expect((await api.listAgentKeys(agent.id)).filter((k) => k.status === 'active').map((k) => k.kid)).toEqual([k2.kid]);
    await expect(tokenWith(agent.secret)).rejects.toBeInstanceOf(AuthenticationError);
    // The agent resource follows: its initial key is gone, so its public_key is the remaining key and its secret is null.
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);
    await tf(['apply', '-refresh-only', '-auto-approve', '-no-color']);
    expect(managed('certusordo_agent', 'svc')).toMatchObject({ id: agent.id, public_key: k2.public_key, secret: null });

    // Removing the agent's last active key is refused, and the key stays (in the API and in state).
    ws.write({ 'main.tf': config({ current: false }) });
    const refused = await ws.run(['apply', '-auto-approve', '-no-color']);
    transcript.push(refused.all);
    expect(refused.code).toBe(1);
    expect(refused.all).toContain("Cannot remove the agent's last active key");
    expect(refused.all).toContain('create_before_destroy');
    expect((await api.listAgentKeys(agent.id)).find((k) => k.kid === k2.kid)!.status).toBe('active');
    expect(key('current').kid).toBe(k2.kid);

    // A key removed outside Terraform drops out of state.
    ws.write({ 'main.tf': config({ rotated: '2' }) });
    const extra = await api.createAgentKey(agent.id, {});
    await api.removeAgentKey(agent.id, k2.kid);
    const recreate = await tf(['plan', '-no-color', '-detailed-exitcode'], [2]);
    expect(recreate.stdout).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');

    // Secrets never reach terraform's console output.
    const printed = transcript.join('\n');
    for (const s of [k1.secret!, k2.secret!, agent.secret, extra.secret!]) expect(printed).not.toContain(s);

    // Destroy: the key resource has dropped out of state; the agent is revoked (with all its keys).
    await tf(['destroy', '-auto-approve', '-no-color']);
    expect((await api.getAgent(agent.id)).status).toBe('revoked');
  });
});
