/** Generated docs are current; the install layout is what terraform's filesystem mirror expects; examples validate. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateDocs } from '../../provider-bridge/src/docs/generate';
import { installProvider, wrapperScript } from '../../provider-bridge/src/install';
import { providerSchemaJson } from '../../provider-bridge/src/schema-json';
import { dataSources, ephemeralResources, providerSchema, resources } from '../../provider-bridge/src/provider';
import { schemaViolations } from '../../provider-bridge/src/schema/types';
import { PROVIDER_BLOCK, ROOT, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';
import { CertusOrdoClient } from '../../sdk/src';
import { startTestServer } from '../support/server';

describe('provider docs', () => {
  it('checked-in provider-bridge/docs equal a fresh generation (run `npm run docs:provider`)', () => {
    const generated = generateDocs(ROOT);
    expect(Object.keys(generated).sort()).toEqual([
      'data-sources/agent.md',
      'data-sources/agents.md',
      'ephemeral-resources/access_token.md',
      'index.md',
      'resources/agent.md',
      'resources/agent_delegation.md',
      'resources/agent_federated_credential.md',
      'resources/agent_key.md',
    ]);
    for (const [rel, content] of Object.entries(generated)) {
      expect(fs.readFileSync(path.join(ROOT, 'provider-bridge/docs', rel), 'utf8')).toBe(content);
    }
  });

  it('every schema follows terraform\'s internal rules and documents every attribute', () => {
    expect(schemaViolations('provider', providerSchema.block)).toEqual([]);
    for (const d of [...resources, ...dataSources, ...ephemeralResources]) {
      expect(d.typeName.startsWith('certusordo_')).toBe(true);
      expect(schemaViolations(d.typeName, d.schema.block)).toEqual([]);
    }
  });

  it('exports the schema JSON in `terraform providers schema -json` shape', () => {
    const json = providerSchemaJson();
    const p = json.provider_schemas['registry.terraform.io/certusordo/certusordo']!;
    expect(json.format_version).toBe('1.0');
    expect(p.resource_schemas.certusordo_agent!.block.attributes.secret).toEqual(
      expect.objectContaining({ type: 'string', computed: true, sensitive: true, description_kind: 'markdown' }),
    );
    expect(Object.keys(p.data_source_schemas)).toEqual(['certusordo_agent', 'certusordo_agents']);
    expect(Object.keys(p.resource_schemas)).toEqual(['certusordo_agent', 'certusordo_agent_delegation', 'certusordo_agent_federated_credential', 'certusordo_agent_key']);
    expect(p.ephemeral_resource_schemas.certusordo_access_token!.block.attributes.access_token).toEqual(
      expect.objectContaining({ type: 'string', computed: true, sensitive: true }),
    );
  });
});

describe('installProvider', () => {
  it('writes the unpacked mirror layout with a stable, versioned wrapper and a copy of the provider', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-install-'));
    try {
      // A built tree in miniature: src/main.js and the bundle beside it, as `npm run build` lays them out.
      const mainJs = path.join(dir, 'dist/src/main.js');
      fs.mkdirSync(path.dirname(mainJs), { recursive: true });
      fs.mkdirSync(path.join(dir, 'dist/bundle'));
      fs.writeFileSync(mainJs, '// launcher');
      fs.writeFileSync(path.join(dir, 'dist/bundle/plugin.js'), '// bundle v1');
      fs.writeFileSync(path.join(dir, 'dist/bundle/plugin.js.0123456789abcdef.cache'), 'cache');
      const mirror = path.join(dir, 'mirror');
      const res = installProvider({ mirrorDir: mirror, version: '1.2.3', mainJs, platform: 'linux_amd64' });
      expect(res.executable).toBe(
        path.join(dir, 'mirror/registry.terraform.io/certusordo/certusordo/1.2.3/linux_amd64/terraform-provider-certusordo_v1.2.3'),
      );
      // The package directory holds the wrapper only (its h1 hash is what lock files record).
      expect(fs.readdirSync(res.executableDir)).toEqual(['terraform-provider-certusordo_v1.2.3']);
      const runtimeMain = path.join(mirror, '.certusordo-runtime/1.2.3/src/main.js');
      expect(res.runtimeDir).toBe(path.join(mirror, '.certusordo-runtime/1.2.3'));
      expect(fs.readFileSync(runtimeMain, 'utf8')).toBe('// launcher');
      expect(fs.readFileSync(path.join(res.runtimeDir, 'bundle/plugin.js'), 'utf8')).toBe('// bundle v1');
      expect(fs.existsSync(path.join(res.runtimeDir, 'bundle/plugin.js.0123456789abcdef.cache'))).toBe(true);
      // The launcher treats a bundle older than itself as stale: the copy must not look so.
      expect(fs.statSync(path.join(res.runtimeDir, 'bundle/plugin.js')).mtimeMs).toBeGreaterThan(fs.statSync(runtimeMain).mtimeMs);
      const content = fs.readFileSync(res.executable, 'utf8');
      expect(content).toBe(wrapperScript('1.2.3', runtimeMain));
      expect(content).not.toContain(path.join(dir, 'dist'));
      expect(content).toContain('v1.2.3');
      expect(fs.statSync(res.executable).mode & 0o111).toBeTruthy();
      expect(res.cliConfig).toContain(`path    = "${mirror}"`);
      expect(res.cliConfig).toContain('include = ["registry.terraform.io/certusordo/*"]');
      expect(res.cliConfig).toContain('exclude = ["registry.terraform.io/certusordo/*"]');
      expect(res.devOverridesConfig).toContain(`"registry.terraform.io/certusordo/certusordo" = "${res.executableDir}"`);
      // Reinstalling a rebuilt provider of the same version replaces the copy but leaves the wrapper
      // byte-identical (lock-file hashes stay valid), and drops code caches of the old bundle.
      fs.writeFileSync(path.join(dir, 'dist/bundle/plugin.js'), '// bundle v2');
      fs.renameSync(path.join(dir, 'dist/bundle/plugin.js.0123456789abcdef.cache'), path.join(dir, 'dist/bundle/plugin.js.fedcba9876543210.cache'));
      const again = installProvider({ mirrorDir: mirror, version: '1.2.3', mainJs, platform: 'linux_amd64' });
      expect(fs.readFileSync(again.executable, 'utf8')).toBe(content);
      expect(fs.readFileSync(path.join(res.runtimeDir, 'bundle/plugin.js'), 'utf8')).toBe('// bundle v2');
      expect(fs.readdirSync(path.join(res.runtimeDir, 'bundle')).filter((f) => f.endsWith('.cache'))).toEqual(['plugin.js.fedcba9876543210.cache']);
      expect(() => installProvider({ mirrorDir: dir, version: 'latest', mainJs })).toThrow(/semantic version/);
      fs.rmSync(path.join(dir, 'dist/bundle'), { recursive: true });
      expect(() => installProvider({ mirrorDir: mirror, version: '1.2.4', mainJs })).toThrow(/npm run build/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the wrapper says what is wrong when node cannot be found', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-wrapper-'));
    try {
      const wrapper = path.join(dir, 'provider');
      fs.writeFileSync(wrapper, wrapperScript('1.2.3', '/nonexistent/main.js'), { mode: 0o755 });
      const r = spawnSync('/bin/sh', [wrapper], { env: { PATH: '/nonexistent', CERTUSORDO_NODE: 'no-such-node' }, encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('terraform-provider-certusordo: cannot run "no-such-node": install Node.js >= 20.19, or set CERTUSORDO_NODE to its path');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithTerraform('a self-contained installation', () => {
  it('keeps working after the tree it was installed from is gone', async () => {
    ensureProviderBuilt();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-moved-'));
    // Install from a copy of the build, then delete the copy: as if the checkout moved.
    const copy = path.join(root, 'checkout/dist/provider-bridge');
    fs.cpSync(path.join(ROOT, 'dist/provider-bridge/bundle'), path.join(copy, 'bundle'), { recursive: true });
    fs.mkdirSync(path.join(copy, 'src'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'dist/provider-bridge/src/main.js'), path.join(copy, 'src/main.js'));
    const res = installProvider({ mirrorDir: path.join(root, 'mirror'), version: '0.1.0', mainJs: path.join(copy, 'src/main.js') });
    fs.rmSync(path.join(root, 'checkout'), { recursive: true });
    const cfg = path.join(root, 'terraformrc');
    fs.writeFileSync(cfg, res.cliConfig);
    const ws = new TfWorkspace(cfg, { endpoint: 'http://127.0.0.1:1', apiKey: 'unused' });
    try {
      ws.write({ 'main.tf': PROVIDER_BLOCK });
      await ws.must(['init', '-no-color']);
      const schema = await ws.must(['providers', 'schema', '-json']);
      expect(schema.stdout).toContain('certusordo_agent_key');
    } finally {
      ws.cleanup();
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});

describeWithTerraform('HCL examples', () => {
  it('pass terraform validate with the installed provider (offline init)', async () => {
    ensureProviderBuilt();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-examples-'));
    const ws = new TfWorkspace(installForTests(root), { endpoint: 'http://127.0.0.1:1', apiKey: 'unused' });
    try {
      const ex = path.join(ROOT, 'examples/terraform');
      ws.write({
        'provider.tf': fs.readFileSync(path.join(ex, 'provider/provider.tf'), 'utf8').replace('~> 0.1', '0.1.0'),
        'resource.tf': fs.readFileSync(path.join(ex, 'resources/certusordo_agent/resource.tf'), 'utf8'),
        'ds_agent.tf': fs.readFileSync(path.join(ex, 'data-sources/certusordo_agent/data-source.tf'), 'utf8'),
        'ds_agents.tf': fs.readFileSync(path.join(ex, 'data-sources/certusordo_agents/data-source.tf'), 'utf8'),
        'agent_key.tf': fs.readFileSync(path.join(ex, 'resources/certusordo_agent_key/resource.tf'), 'utf8'),
        'agent_delegation.tf': fs.readFileSync(path.join(ex, 'resources/certusordo_agent_delegation/resource.tf'), 'utf8'),
        'agent_federated_credential.tf': fs.readFileSync(path.join(ex, 'resources/certusordo_agent_federated_credential/resource.tf'), 'utf8'),
        'access_token.tf': fs.readFileSync(path.join(ex, 'ephemeral-resources/certusordo_access_token/ephemeral-resource.tf'), 'utf8'),
      });
      await ws.must(['init', '-no-color']);
      const res = await ws.must(['validate', '-no-color']);
      expect(res.stdout).toContain('The configuration is valid');
    } finally {
      ws.cleanup();
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});

describeWithTerraform('HCL examples of the key resource, the access token and the agents filters', () => {
  it('apply against a real control plane, then destroy', async () => {
    ensureProviderBuilt();
    const server = await startTestServer();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-examples-apply-'));
    const sdk = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
    // The access-token example's agent, whose secret comes from outside Terraform.
    const deployer = await sdk.agents.create({ name: 'example-deployer', scopes: ['deploy:write'] });
    const ws = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey }, { TF_VAR_deploy_agent_secret: deployer.secret! });
    try {
      const ex = path.join(ROOT, 'examples/terraform');
      ws.write({
        'provider.tf': fs.readFileSync(path.join(ex, 'provider/provider.tf'), 'utf8').replace('~> 0.1', '0.1.0'),
        'agent_key.tf': fs.readFileSync(path.join(ex, 'resources/certusordo_agent_key/resource.tf'), 'utf8'),
        'access_token.tf': fs.readFileSync(path.join(ex, 'ephemeral-resources/certusordo_access_token/ephemeral-resource.tf'), 'utf8'),
        'ds_agents.tf': fs.readFileSync(path.join(ex, 'data-sources/certusordo_agents/data-source.tf'), 'utf8'),
      });
      await ws.must(['init', '-no-color']);
      const applied = await ws.must(['apply', '-auto-approve', '-no-color']);
      expect(applied.all).toContain('Apply complete! Resources: 4 added');
      // Data sources are read during plan, before this run's agent existed: read them again.
      await ws.must(['apply', '-auto-approve', '-no-color']);
      const outputs = JSON.parse((await ws.must(['output', '-json'])).stdout) as Record<string, { value: unknown }>;
      // The deployer authenticated (through the ephemeral token); billing-worker never did.
      expect(outputs.never_used_agents!.value).toEqual(['billing-worker']);
      expect(outputs.stale_agents!.value).toEqual(['billing-worker']);
      const agentId = (ws.state().resources.find((r) => r.type === 'certusordo_agent')!.instances[0]!.attributes as { id: string }).id;
      expect((await sdk.agents.get(agentId)).status).toBe('active');
      await ws.must(['plan', '-no-color', '-detailed-exitcode'], [0]);
      await ws.must(['destroy', '-auto-approve', '-no-color']);
      expect((await sdk.agents.get(agentId)).status).toBe('revoked');
    } finally {
      ws.cleanup();
      fs.rmSync(root, { recursive: true, force: true });
      await server.close();
    }
  }, 300_000);
});

describeWithTerraform('HCL examples of the agent resource and the agent data source', () => {
  it('apply as written against a real control plane: the data source reads the agent the resource example made', async () => {
    ensureProviderBuilt();
    const server = await startTestServer();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-examples-agent-'));
    const sdk = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
    const cfg = installForTests(root);
    const creds = { endpoint: server.url, apiKey: server.apiKey };
    const ex = path.join(ROOT, 'examples/terraform');
    const provider = fs.readFileSync(path.join(ex, 'provider/provider.tf'), 'utf8').replace('~> 0.1', '0.1.0');
    const owner = new TfWorkspace(cfg, creds);
    let reader: TfWorkspace | undefined;
    try {
      owner.write({ 'provider.tf': provider, 'resource.tf': fs.readFileSync(path.join(ex, 'resources/certusordo_agent/resource.tf'), 'utf8') });
      await owner.must(['init', '-no-color']);
      expect((await owner.must(['apply', '-auto-approve', '-no-color'])).all).toContain('Apply complete! Resources: 3 added');
      await owner.must(['plan', '-no-color', '-detailed-exitcode'], [0]);
      const byName = Object.fromEntries(owner.state().resources.map((r) => [r.name, r.instances[0]!.attributes as { id: string; status: string; secret: string | null }]));
      expect((await sdk.agents.get(byName.reporting!.id)).status).toBe('suspended');
      // The secretless example: no key, no secret.
      expect(byName.release!.secret).toBeNull();
      expect((await sdk.agents.get(byName.release!.id)).publicKey).toBeNull();

      // Another configuration reads the payments agent: by name as written, by id through the variable.
      reader = new TfWorkspace(cfg, creds, { TF_VAR_payments_agent_id: byName.payments!.id });
      reader.write({ 'provider.tf': provider, 'data-source.tf': fs.readFileSync(path.join(ex, 'data-sources/certusordo_agent/data-source.tf'), 'utf8') });
      await reader.must(['init', '-no-color']);
      await reader.must(['apply', '-auto-approve', '-no-color']);
      const outputs = JSON.parse((await reader.must(['output', '-json'])).stdout) as Record<string, { value: unknown }>;
      expect(outputs.payments_terraform_scopes!.value).toEqual(['payments:read', 'payments:write']);
      await reader.must(['plan', '-no-color', '-detailed-exitcode'], [0]);

      await owner.must(['destroy', '-auto-approve', '-no-color']);
      for (const a of Object.values(byName)) expect((await sdk.agents.get(a.id)).status).toBe('revoked');
    } finally {
      owner.cleanup();
      reader?.cleanup();
      fs.rmSync(root, { recursive: true, force: true });
      await server.close();
    }
  }, 300_000);
});
