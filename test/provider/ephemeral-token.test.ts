/**
 * Ephemeral certusordo_access_token with the real terraform (1.10+ ephemeral resources): minted at
 * plan and apply time from an agent secret that arrives through an ephemeral variable, used by a
 * provisioner in the same apply, absent from the plan and state files, revoked when closed.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CertusOrdoClient } from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';
import { PROTOCOL_VIOLATIONS, PROVIDER_BLOCK, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';

jest.setTimeout(300_000);

/** Run by the provisioner: calls the API as the agent and records what it saw (outside the workspace). */
const USE_TOKEN_JS = `
const fs = require('node:fs');
fetch(process.env.CERTUSORDO_ENDPOINT + '/v1/sessions', { headers: { authorization: 'Bearer ' + process.env.TOKEN } })
  .then((res) => {
    fs.appendFileSync(process.env.OUT, JSON.stringify({ token: process.env.TOKEN, status: res.status, expires_at: process.env.EXPIRES_AT }) + '\\n');
    process.exit(res.ok ? 0 : 1);
  }, () => process.exit(2));
`;

const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;

describeWithTerraform('certusordo_access_token (ephemeral) with terraform', () => {
  let server: TestServer;
  let sdk: CertusOrdoClient;
  let root: string;
  let ws: TfWorkspace;

  const config = (token: string) => `${PROVIDER_BLOCK}
variable "agent_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

ephemeral "certusordo_access_token" "deploy" {
${token}
}

resource "terraform_data" "use" {
  provisioner "local-exec" {
    command = "node use-token.js"
    environment = {
      TOKEN      = ephemeral.certusordo_access_token.deploy.access_token
      EXPIRES_AT = ephemeral.certusordo_access_token.deploy.expires_at
    }
  }
}
`;

  beforeAll(async () => {
    ensureProviderBuilt();
    server = await startTestServer();
    sdk = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-eph-'));
  });

  afterAll(async () => {
    ws?.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  it('mints a usable token that is in neither plan nor state, and revokes it on close', async () => {
    const agent = await sdk.agents.create({ name: 'eph-deployer', scopes: ['deploy:write', 'deploy:read'] });
    const out = path.join(root, 'seen.jsonl');
    ws = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey }, { OUT: out, TF_VAR_agent_secret: agent.secret! });
    // The token calls the control plane itself, so it is minted for it (RFC 8707 resource: the
    // server's URL); a token for another service would be refused there (wrong audience).
    const controlPlane = `${server.config.publicUrl ?? server.url}/`;
    ws.write({
      'main.tf': config(`  secret = var.agent_secret\n  scopes = ["deploy:write"]\n  resource = "${controlPlane}"`),
      'use-token.js': USE_TOKEN_JS,
    });
    const transcript: string[] = [];
    const tf = async (args: string[], ok: number[] = [0]) => {
      const res = await ws.must(args, ok);
      transcript.push(res.all);
      expect(res.all).not.toMatch(PROTOCOL_VIOLATIONS);
      return res;
    };
    await tf(['init', '-no-color']);
    const before = Date.now();

    const plan = await tf(['plan', '-no-color', '-out=tfplan']);
    expect(plan.stdout).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
    await tf(['apply', '-no-color', 'tfplan']);

    // The provisioner used the token against the API, as the agent, in the same apply.
    const seen = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { token: string; status: number; expires_at: string });
    expect(seen).toHaveLength(1);
    const { token, status, expires_at } = seen[0]!;
    expect(status).toBe(200);
    expect(token).toMatch(JWT);
    expect(Date.parse(expires_at)).toBeGreaterThan(before);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string; scope: string; aud: string };
    expect(claims).toMatchObject({ sub: agent.id, scope: 'deploy:write', aud: controlPlane });

    // Closed → revoked: introspection says inactive right after the apply.
    expect((await sdk.introspect(token)).raw).toEqual({ active: false });
    // Both the plan's token and the apply's were revoked.
    const revoked = await sdk.auditEvents.list({ action: 'token.revoked' });
    expect(revoked.data.length).toBeGreaterThanOrEqual(2);

    // Nothing of it in the plan file (a zip: read every member) or the state file.
    const planText = execFileSync('unzip', ['-p', path.join(ws.dir, 'tfplan')]).toString('latin1');
    const planJson = (await tf(['show', '-json', 'tfplan'])).stdout;
    const state = fs.readFileSync(path.join(ws.dir, 'terraform.tfstate'), 'utf8');
    for (const text of [planText, planJson, state]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(agent.secret!);
      expect(text).not.toMatch(JWT);
    }
    expect(planText.length).toBeGreaterThan(100);
    expect(state).toContain('terraform_data');
    const printed = transcript.join('\n');
    expect(printed).not.toContain(token);
    expect(printed).not.toContain(agent.secret!);
  });

  it('mints with a PEM key file, and reports a refused scope and a bad secret on the attribute', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = path.join(root, 'agent.pem');
    fs.writeFileSync(pem, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const agent = await sdk.agents.create({ name: 'eph-brought', scopes: ['reports:read'], publicKey: publicKey.export({ format: 'jwk' }).x! });
    const out = path.join(root, 'seen-pem.jsonl');
    const w = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey }, { OUT: out, TF_VAR_agent_secret: 'unused' });
    try {
      w.write({ 'main.tf': config(`  agent_id = "${agent.id}"\n  private_key_file = "${pem}"`), 'use-token.js': USE_TOKEN_JS });
      await w.must(['init', '-no-color']);
      await w.must(['apply', '-auto-approve', '-no-color']);
      const { token, status } = JSON.parse(fs.readFileSync(out, 'utf8').trim()) as { token: string; status: number };
      expect(status).toBe(200);
      expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ sub: agent.id, scope: 'reports:read' });
      expect((await sdk.introspect(token)).raw).toEqual({ active: false });

      // A scope the agent does not hold: refused at plan time (the resource is opened during plan).
      w.write({ 'main.tf': config(`  agent_id = "${agent.id}"\n  private_key_file = "${pem}"\n  scopes = ["payments:write"]`) });
      const scope = await w.run(['plan', '-no-color']);
      expect(scope.code).toBe(1);
      expect(scope.all).toContain('Access token refused');
      expect(scope.all).toContain('invalid_scope');

      // A malformed secret: validated offline, never echoed.
      const badSecret = `cos_${agent.id}_not-a-seed`;
      w.write({ 'main.tf': config('  secret = var.agent_secret') });
      const bad = await w.run(['plan', '-no-color'], { TF_VAR_agent_secret: badSecret });
      expect(bad.code).toBe(1);
      expect(bad.all).toContain('Invalid agent secret');
      expect(bad.all).not.toContain(badSecret);
    } finally {
      w.cleanup();
    }
  });
});
