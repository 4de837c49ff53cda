/**
 * Secretless agents with the real terraform: an agent declared with only an inline
 * `federated_credential` block (inline JWKS, so no issuer is fetched) has no secret in the plan
 * (null, not unknown), in state or at the API; plans settle (JSON fields compared as values); a
 * changed block replaces only that credential; import reads the blocks back; the separate
 * certusordo_agent_federated_credential is created, imported and destroyed without the agent
 * seeing it; destroy revokes the agent.
 */
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestServer, type TestServer } from '../support/server';
import { RestClient } from '../../provider-bridge/src/client/rest-client';
import { PROTOCOL_VIOLATIONS, PROVIDER_BLOCK, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';

jest.setTimeout(300_000);

const ISSUER = 'https://ci.example.test';
const SECRET_SHAPE = /cos_[0-9a-f-]{36}_/;

interface CredentialAttrs {
  id: string;
  issuer: string;
  subject: string;
  audience: string;
  claims_json: string | null;
  jwks: string | null;
}

interface PlanJson {
  resource_changes: Array<{ address: string; change: { actions: string[]; after: Record<string, unknown>; after_unknown: Record<string, unknown> } }>;
}

describeWithTerraform('federated credentials with terraform', () => {
  let server: TestServer;
  let api: RestClient;
  let root: string;
  let ws: TfWorkspace;
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });

  /** `claims` is written as given (HCL), so tests can reformat the same JSON. */
  const config = (opts: { subject: string; claims?: string; extra?: boolean }): string => `${PROVIDER_BLOCK}
locals {
  jwks = jsonencode({ keys = [${JSON.stringify(jwk).replace(/"(\w+)":/g, '$1 = ')}] })
}

resource "certusordo_agent" "ci" {
  name   = "federated-ci"
  scopes = ["deploy:write"]

  federated_credential {
    issuer      = "${ISSUER}"
    subject     = "${opts.subject}"
    claims_json = ${opts.claims ?? 'jsonencode({ workflow = "release" })'}
    jwks        = local.jwks
  }
}
${
  opts.extra
    ? `
resource "certusordo_agent_federated_credential" "extra" {
  agent_id = certusordo_agent.ci.id
  issuer   = "${ISSUER}"
  subject  = "repo:acme/web"
  jwks     = local.jwks
}
`
    : ''
}`;

  const tf = async (args: string[], ok: number[] = [0]) => {
    const res = await ws.must(args, ok);
    expect(res.all).not.toMatch(PROTOCOL_VIOLATIONS);
    return res;
  };
  const managed = (type: string, name: string) => ws.managed(type, name);
  const agentState = () => managed('certusordo_agent', 'ci') as { id: string; secret: string | null; public_key: string | null; federated_credential: CredentialAttrs[] };
  const active = async (agentId: string) => (await api.listFederatedCredentials(agentId)).filter((c) => c.status === 'active');
  const settled = () => tf(['plan', '-no-color', '-detailed-exitcode'], [0]);

  beforeAll(async () => {
    ensureProviderBuilt();
    server = await startTestServer();
    api = new RestClient({ endpoint: server.url, apiKey: server.apiKey });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-federated-'));
    ws = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey });
  });

  afterAll(async () => {
    ws?.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  it('creates a secretless agent, changes and imports its credential, and destroys it', async () => {
    ws.write({ 'main.tf': config({ subject: 'repo:acme/api' }) });
    await tf(['init', '-no-color']);

    // The plan: no secret and no key, as null values, not "known after apply".
    await tf(['plan', '-no-color', '-out=create.tfplan']);
    const planText = (await tf(['show', '-json', 'create.tfplan'])).stdout;
    const plan = JSON.parse(planText) as PlanJson;
    const change = plan.resource_changes.find((r) => r.address === 'certusordo_agent.ci')!.change;
    expect(change.actions).toEqual(['create']);
    expect(change.after.secret).toBeNull();
    expect(change.after.public_key).toBeNull();
    expect(change.after_unknown.secret).toBeUndefined();
    expect(change.after_unknown.public_key).toBeUndefined();
    expect(change.after.federated_credential).toEqual([expect.objectContaining({ issuer: ISSUER, subject: 'repo:acme/api' })]);

    await tf(['apply', '-no-color', 'create.tfplan']);
    const created = agentState();
    expect(created.secret).toBeNull();
    expect(created.public_key).toBeNull();
    expect(fs.readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8')).not.toMatch(SECRET_SHAPE);
    const agent = await api.getAgent(created.id);
    expect(agent.public_key).toBeNull();
    expect(await api.listAgentKeys(created.id)).toEqual([]);
    const [first] = await active(created.id);
    expect(created.federated_credential).toEqual([
      { id: first!.id, issuer: ISSUER, subject: 'repo:acme/api', audience: first!.audience, claims_json: '{"workflow":"release"}', jwks: expect.any(String) },
    ]);
    expect(first).toMatchObject({ issuer: ISSUER, subject: 'repo:acme/api', claims: { workflow: 'release' }, jwks: { keys: [jwk] } });
    await settled();

    // The same JSON written differently is no change.
    ws.write({ 'main.tf': config({ subject: 'repo:acme/api', claims: '<<-EOT\n      {  "workflow" : "release" }\n    EOT' }) });
    await settled();

    // A changed block: the new credential is added, the old one removed, the agent kept.
    ws.write({ 'main.tf': config({ subject: 'repo:acme/api:environment:production' }) });
    const changePlan = await tf(['plan', '-no-color', '-detailed-exitcode'], [2]);
    expect(changePlan.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    expect(changePlan.stdout).not.toContain('secret');
    await tf(['apply', '-auto-approve', '-no-color']);
    const changed = agentState();
    expect(changed.id).toBe(created.id);
    const now = await active(created.id);
    expect(now.map((c) => c.subject)).toEqual(['repo:acme/api:environment:production']);
    expect(changed.federated_credential.map((c) => c.id)).toEqual([now[0]!.id]);
    await settled();

    // Import reads the blocks back, and the plan is empty.
    await tf(['state', 'rm', '-no-color', 'certusordo_agent.ci']);
    await tf(['import', '-no-color', 'certusordo_agent.ci', created.id]);
    expect(agentState().federated_credential).toEqual(changed.federated_credential);
    await settled();

    // The separate resource: created beside the blocks, invisible to the agent, imported, destroyed.
    ws.write({ 'main.tf': config({ subject: 'repo:acme/api:environment:production', extra: true }) });
    await tf(['apply', '-auto-approve', '-no-color']);
    const extra = managed('certusordo_agent_federated_credential', 'extra') as { id: string; credential_id: string; audience: string; created_at: string };
    expect(extra.id).toBe(`${created.id}/${extra.credential_id}`);
    expect((await active(created.id)).map((c) => c.id).sort()).toEqual([now[0]!.id, extra.credential_id].sort());
    expect(agentState().federated_credential).toHaveLength(1);
    await settled();
    await tf(['state', 'rm', '-no-color', 'certusordo_agent_federated_credential.extra']);
    const bad = await ws.run(['import', '-no-color', 'certusordo_agent_federated_credential.extra', extra.credential_id]);
    expect(bad.code).toBe(1);
    expect(bad.all).toContain('Invalid import id');
    await tf(['import', '-no-color', 'certusordo_agent_federated_credential.extra', extra.id]);
    expect(managed('certusordo_agent_federated_credential', 'extra')).toEqual(extra);
    await settled();
    ws.write({ 'main.tf': config({ subject: 'repo:acme/api:environment:production' }) });
    await tf(['apply', '-auto-approve', '-no-color']);
    expect((await active(created.id)).map((c) => c.id)).toEqual([now[0]!.id]);

    await tf(['destroy', '-auto-approve', '-no-color']);
    expect((await api.getAgent(created.id)).status).toBe('revoked');
  });
});
