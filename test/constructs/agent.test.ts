import { generateKeyPairSync } from 'node:crypto';
import { Lazy, TerraformOutput, Testing, Token } from 'cdktf';
import { CertusOrdoAgent, ValidationError, l1 } from '../../constructs/src';
import { agentsByName, stackWithProvider, synth } from './helpers';

Testing.setupJest();

// A real key: the construct checks that a brought key is a usable Ed25519 point.
const PUBLIC_KEY = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;

describe('CertusOrdoAgent', () => {
  test('wraps exactly one certusordo_agent resource, child id "Resource", with the given props', () => {
    const out = Testing.synthScope((scope) => {
      new CertusOrdoAgent(scope, 'Invoices', {
        name: 'invoice-processor-prod',
        scopes: ['invoices:read', 'invoices:write'],
        metadata: { team: 'billing' },
        status: 'active',
        rotationTrigger: { rotated: '2026-11' },
      });
    });
    expect(out).toHaveResourceWithProperties(l1.agent.Agent, {
      name: 'invoice-processor-prod',
      scopes: ['invoices:read', 'invoices:write'],
      metadata: { team: 'billing' },
      status: 'active',
      rotation_trigger: { rotated: '2026-11' },
    });
    const stack = stackWithProvider();
    const agent = new CertusOrdoAgent(stack, 'A', { name: 'a-prod' });
    expect(agent.node.children.map((c) => c.node.id)).toEqual(['Resource']);
    expect(agent.node.defaultChild).toBeInstanceOf(l1.agent.Agent);
  });

  test('name defaults to the construct id; unset props are left to the provider (status unmanaged)', () => {
    const stack = stackWithProvider();
    new CertusOrdoAgent(stack, 'report-generator-dev');
    const r = agentsByName(synth(stack).json)['report-generator-dev'];
    expect(r).toEqual({ name: 'report-generator-dev' });
  });

  test('getters are tokens to the resource attributes', () => {
    const stack = stackWithProvider();
    const agent = new CertusOrdoAgent(stack, 'A', { name: 'a-prod' });
    expect(Token.isUnresolved(agent.agentId)).toBe(true);
    expect(Token.isUnresolved(agent.publicKey)).toBe(true);
    new TerraformOutput(stack, 'ids', { value: { id: agent.agentId, key: agent.publicKey } });
    const { json } = synth(stack);
    const ref = Object.keys(json.resource.certusordo_agent)[0];
    expect(json.output.ids.value).toEqual({ id: `\${certusordo_agent.${ref}.id}`, key: `\${certusordo_agent.${ref}.public_key}` });
  });

  test('secretOutput always creates a sensitive output of the secret', () => {
    const stack = stackWithProvider();
    const agent = new CertusOrdoAgent(stack, 'A', { name: 'a-prod' });
    const output = agent.secretOutput('secret');
    expect(output).toBeInstanceOf(TerraformOutput);
    agent.secretOutput('named', { staticId: true, description: 'for the vault' });
    const { json } = synth(stack);
    const ref = Object.keys(json.resource.certusordo_agent)[0];
    const outputs = Object.entries<any>(json.output);
    expect(outputs).toHaveLength(2);
    for (const [, o] of outputs) {
      expect(o.sensitive).toBe(true);
      expect(o.value).toBe(`\${certusordo_agent.${ref}.secret}`);
    }
    expect(json.output.named.description).toBe('for the vault');
  });

  test('secretOutput is refused when the agent brings its own public key (no secret is issued)', () => {
    const stack = stackWithProvider();
    const agent = new CertusOrdoAgent(stack, 'A', { name: 'a-prod', publicKey: PUBLIC_KEY });
    expect(() => agent.secretOutput('secret')).toThrow(/brings its own publicKey/);
  });

  test('a secretless agent: federatedCredentials render as blocks (JSON as jsonencode writes it), no secret output exists', () => {
    const stack = stackWithProvider();
    const agent = new CertusOrdoAgent(stack, 'Ci', {
      name: 'ci-deployer',
      federatedCredentials: [
        { issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/api:ref:refs/heads/main', claims: { workflow: 'release', run_attempt: 1 } },
        { issuer: 'https://k8s.example.test', subject: 'system:serviceaccount:ci:deployer', jwks: { keys: [{ x: PUBLIC_KEY, kty: 'OKP', crv: 'Ed25519' }] } },
      ],
    });
    expect(agent.secretless).toBe(true);
    expect(() => agent.secretOutput('ci_secret')).toThrow(/secretless \(federated credentials, no key\): no secret exists/);
    const { json, text } = synth(stack);
    expect(agentsByName(json)['ci-deployer'].federated_credential).toEqual([
      { issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/api:ref:refs/heads/main', claims_json: '{"run_attempt":1,"workflow":"release"}' },
      { issuer: 'https://k8s.example.test', subject: 'system:serviceaccount:ci:deployer', jwks: `{"keys":[{"crv":"Ed25519","kty":"OKP","x":"${PUBLIC_KEY}"}]}` },
    ]);
    expect(json.output ?? {}).toEqual({});
    expect(text).not.toContain('.secret}');
    // With a brought key as well the agent has a key, but still no secret.
    const keyed = new CertusOrdoAgent(stackWithProvider(), 'K', { publicKey: PUBLIC_KEY, federatedCredentials: [{ issuer: 'https://k8s.example.test', subject: 's' }] });
    expect(keyed.secretless).toBe(false);
  });

  test('federatedCredentials are checked with the API\'s rules, every violation listed', () => {
    const stack = stackWithProvider();
    let err: unknown;
    try {
      new CertusOrdoAgent(stack, 'Bad', {
        federatedCredentials: [{ issuer: 'http://ci.example.test?x=1', subject: '', claims: { sub: 'x' }, jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: PUBLIC_KEY, d: 'secret' }] } }],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    const lines = (err as ValidationError).message.split('\n');
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringContaining('federatedCredentials[0]: issuer must be an https URL'),
      expect.stringContaining('federatedCredentials[0]: issuer must not contain a query'),
      expect.stringContaining('federatedCredentials[0]: subject must be 1-512 characters'),
      expect.stringContaining('federatedCredentials[0]: claim "sub" is decided by the credential\'s own fields'),
      expect.stringContaining('federatedCredentials[0]: jwks must hold public keys only; a key has d'),
    ]));
  });

  test('lists ALL violations at once, with the construct path, as a ValidationError', () => {
    const stack = stackWithProvider();
    let error: unknown;
    try {
      new CertusOrdoAgent(stack, 'Bad', {
        name: 'bad name!',
        scopes: ['Payments:Read', 'a:b:c', 'payments:read'],
        metadata: { ['k'.repeat(65)]: 'v', long: 'x'.repeat(1025) },
        status: 'revoked' as never,
        publicKey: 'not-a-key',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const v = error as ValidationError;
    expect(v.constructPath).toBe('test/Bad');
    expect(v.violations).toEqual([
      expect.stringMatching(/^name may contain only .* \(got "bad name!"\)$/),
      expect.stringMatching(/^scope "Payments:Read" must look like "resource:action"/),
      expect.stringMatching(/^scope "a:b:c" must look like "resource:action"/),
      expect.stringMatching(/^metadata key "k{65}" must be 1-64 characters$/),
      'metadata value for "long" must be at most 1024 characters',
      expect.stringMatching(/^status "revoked" is not allowed: use "active" or "suspended".*destroy the resource to revoke/),
      expect.stringMatching(/^publicKey must be an Ed25519 public key/),
    ]);
    expect(v.message.split('\n')[0]).toBe('Invalid CertusOrdoAgent props at test/Bad:');
    expect(v.message.split('\n')).toHaveLength(8);
  });

  test('uses the shared model rules (the same limits as the API)', () => {
    const stack = stackWithProvider();
    expect(() => new CertusOrdoAgent(stack, 'Long', { name: 'a'.repeat(65) })).toThrow(/name must be at most 64 characters/);
    const many = Array.from({ length: 101 }, (_, i) => `r${i}:read`);
    expect(() => new CertusOrdoAgent(stack, 'Many', { name: 'many-prod', scopes: many })).toThrow(/at most 100 scopes/);
    const meta = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    expect(() => new CertusOrdoAgent(stack, 'Meta', { name: 'meta-prod', metadata: meta })).toThrow(/at most 50 keys/);
    expect(() => new CertusOrdoAgent(stack, 'Ok', { name: 'ok-prod', scopes: ['read', 'payments:*'] })).not.toThrow();
  });

  test('skips unresolved tokens (they are checked by the provider at plan time)', () => {
    const stack = stackWithProvider();
    const other = new CertusOrdoAgent(stack, 'Other', { name: 'other-prod' });
    const lazyName = Lazy.stringValue({ produce: () => 'not valid!' });
    expect(
      () =>
        new CertusOrdoAgent(stack, 'Tokens', {
          name: lazyName,
          scopes: [Lazy.stringValue({ produce: () => 'X' }), 'payments:read'],
          metadata: { owner: other.agentId },
          publicKey: other.publicKey,
          status: Lazy.stringValue({ produce: () => 'active' }) as never,
        }),
    ).not.toThrow();
    // Known parts next to tokens are still checked.
    expect(() => new CertusOrdoAgent(stack, 'Mixed', { name: lazyName, scopes: [other.agentId, 'BAD'] })).toThrow(/scope "BAD"/);
  });

  test('grants add scopes (deduplicated) rendered at synth; bad grants are refused', () => {
    const stack = stackWithProvider();
    const agent = new CertusOrdoAgent(stack, 'A', { name: 'reports-prod', scopes: ['reports:read'] });
    expect(agent.grantRead('reports')).toEqual(['reports:read']);
    agent.grantWrite('reports');
    agent.grantActions('reports', 'generate', 'export');
    agent.grantAllActions('archive');
    expect(agentsByName(synth(stack).json)['reports-prod'].scopes).toEqual([
      'reports:read',
      'reports:write',
      'reports:generate',
      'reports:export',
      'archive:*',
    ]);
    expect(agent.scopes).toContain('archive:*');
    expect(() => agent.grantActions('Reports', 'read', 'Write')).toThrow(ValidationError);
  });

  test('grantActAs declares one certusordo_agent_delegation per actor (A↔B is no cycle); itself is refused', () => {
    const stack = stackWithProvider();
    const orchestrator = new CertusOrdoAgent(stack, 'Orchestrator', { name: 'orchestrator-prod' });
    const payments = new CertusOrdoAgent(stack, 'Payments', { name: 'payments-prod' });
    const imported = CertusOrdoAgent.fromAgentId(stack, 'Ledger', '0190a000-0000-7000-8000-000000000002');
    const grant = orchestrator.grantActAs(payments);
    expect(orchestrator.grantActAs(payments)).toBe(grant);
    orchestrator.grantActAs(imported);
    payments.grantActAs(orchestrator);
    const json = synth(stack).json as { resource: Record<string, Record<string, { subject_agent_id: string; actor_agent_id: string }>> };
    const delegations = Object.values(json.resource.certusordo_agent_delegation!);
    expect(delegations).toHaveLength(3);
    const ref = (a: string) => expect.stringMatching(new RegExp(`^\\$\\{certusordo_agent\\.${a}_[A-Z0-9]+\\.id\\}$`));
    expect(delegations).toEqual(expect.arrayContaining([
      { subject_agent_id: ref('Orchestrator'), actor_agent_id: ref('Payments') },
      { subject_agent_id: ref('Orchestrator'), actor_agent_id: '0190a000-0000-7000-8000-000000000002' },
      { subject_agent_id: ref('Payments'), actor_agent_id: ref('Orchestrator') },
    ]));
    expect(() => orchestrator.grantActAs(orchestrator)).toThrow(ValidationError);
  });

  test('two agents of a stack with the same name fail validation at synth', () => {
    const stack = stackWithProvider();
    new CertusOrdoAgent(stack, 'One', { name: 'dup-prod' });
    new CertusOrdoAgent(stack, 'Two', { name: 'dup-prod' });
    expect(() => synth(stack)).toThrow(/agent name "dup-prod" is used by 2 agents \(test\/One, test\/Two\)/);
  });

  test('fromAgentId is a light import: nothing is created until publicKey is read (then a data source lookup)', () => {
    const stack = stackWithProvider();
    const id = '01a214c5-8bdc-7000-8a85-c183be7fe22d';
    const imported = CertusOrdoAgent.fromAgentId(stack, 'Imported', id);
    expect(imported.agentId).toBe(id);
    expect(Testing.synth(stack)).not.toMatch(/certusordo_agent/);
    new TerraformOutput(stack, 'key', { value: imported.publicKey });
    const text = Testing.synth(stack);
    expect(text).toHaveDataSourceWithProperties(l1.dataCertusordoAgent.DataCertusordoAgent, { id });
    expect(() => CertusOrdoAgent.fromAgentId(stack, 'Bad', 'payment-processor')).toThrow(/must be the agent's UUID/);
  });

  test('the synthesized stack requires the certusordo provider from its registry address', () => {
    const { json } = synth(stackWithProvider());
    expect(json.terraform.required_providers.certusordo).toEqual({ source: 'certusordo/certusordo', version: '~> 0.1' });
  });
});
