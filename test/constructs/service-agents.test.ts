import { Testing } from 'cdktf';
import { CertusOrdoAgent, ServiceAgents, ValidationError, l1, readOnlyScopes } from '../../constructs/src';
import { agentsByName, stackWithProvider, synth } from './helpers';

Testing.setupJest();

const base = {
  team: 'billing',
  version: '1.4.0',
  environments: [{ name: 'dev', access: 'read-only' as const }, 'staging', 'prod'],
  services: [
    { name: 'invoice-processor', scopes: ['invoices:read', 'invoices:write', 'reports:*'] },
    { name: 'payment-service', scopes: ['payments:read', 'payments:write'], scopesByEnvironment: { staging: ['payments:read'] } },
  ],
};

/** The violations of the ValidationError `make` throws (it must throw one). */
function violationsOf(make: () => unknown): readonly string[] {
  try {
    make();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).violations;
  }
  throw new Error('expected a ValidationError');
}

describe('ServiceAgents', () => {
  test('one agent per service per environment, named <service>-<env>, with the shared metadata', () => {
    const stack = stackWithProvider();
    const agents = new ServiceAgents(stack, 'Agents', base);
    expect(agents.agents.map((a) => a.agentName)).toEqual([
      'invoice-processor-dev',
      'invoice-processor-staging',
      'invoice-processor-prod',
      'payment-service-dev',
      'payment-service-staging',
      'payment-service-prod',
    ]);
    const byName = agentsByName(synth(stack).json);
    expect(Object.keys(byName)).toHaveLength(6);
    expect(byName['payment-service-prod'].metadata).toEqual({ team: 'billing', environment: 'prod', version: '1.4.0', service: 'payment-service' });
    expect(byName['invoice-processor-dev'].metadata.environment).toBe('dev');
  });

  test('per-environment scopes: read-only in dev (wildcards narrowed to read), explicit overrides win', () => {
    const stack = stackWithProvider();
    new ServiceAgents(stack, 'Agents', base);
    const out = Testing.synth(stack);
    expect(out).toHaveResourceWithProperties(l1.agent.Agent, { name: 'invoice-processor-dev', scopes: ['invoices:read', 'reports:read'] });
    expect(out).toHaveResourceWithProperties(l1.agent.Agent, { name: 'invoice-processor-prod', scopes: ['invoices:read', 'invoices:write', 'reports:*'] });
    expect(out).toHaveResourceWithProperties(l1.agent.Agent, { name: 'payment-service-dev', scopes: ['payments:read'] });
    expect(out).toHaveResourceWithProperties(l1.agent.Agent, { name: 'payment-service-staging', scopes: ['payments:read'] });
    expect(out).toHaveResourceWithProperties(l1.agent.Agent, { name: 'payment-service-prod', scopes: ['payments:read', 'payments:write'] });
  });

  test('readOnlyScopes keeps read actions only', () => {
    expect(readOnlyScopes(['a:read', 'a:write', 'b:*', 'read', 'write', 'c:delete', 'b:read'])).toEqual(['a:read', 'b:read', 'read']);
  });

  test('agent() and forEnvironment() look agents up; unknown ones are errors', () => {
    const stack = stackWithProvider();
    const agents = new ServiceAgents(stack, 'Agents', base);
    const agent = agents.agent('payment-service', 'prod');
    expect(agent).toBeInstanceOf(CertusOrdoAgent);
    expect(agent.agentName).toBe('payment-service-prod');
    expect(agents.forEnvironment('dev').map((a) => a.agentName)).toEqual(['invoice-processor-dev', 'payment-service-dev']);
    expect(() => agents.agent('payment-service', 'qa')).toThrow(/no agent for service "payment-service" in environment "qa"/);
    expect(() => agents.forEnvironment('qa')).toThrow(/"qa" is not one of "dev", "staging", "prod"/);
  });

  test('lists all violations at once: duplicates, unknown environments, invalid names and scopes', () => {
    const stack = stackWithProvider();
    expect(violationsOf(() => new ServiceAgents(stack, 'Agents', {
      team: 'billing',
      environments: ['dev', 'dev', 'Prod!'],
      services: [
        { name: 'svc', scopes: ['A:B'] },
        { name: 'svc', scopes: [] },
        { name: 'other', scopes: [], scopesByEnvironment: { qa: ['x:read'] } },
      ],
    }))).toEqual(
      expect.arrayContaining([
        'service "svc" is listed more than once (one agent per service per environment)',
        'environment "dev" is listed more than once',
        'service "other": scopesByEnvironment names unknown environment "qa"',
        expect.stringMatching(/^agent "svc-Prod!": name may contain only/),
        expect.stringMatching(/^agent "svc-dev": scope "A:B" must look like/),
      ]),
    );
    expect(stack.node.tryFindChild('Agents')?.node.children ?? []).toHaveLength(0);
  });

  test('version is optional; service metadata and status apply to that service only', () => {
    const stack = stackWithProvider();
    new ServiceAgents(stack, 'Agents', {
      team: 'ops',
      environments: ['prod'],
      metadata: { cost_center: 'cc-1', team: 'ignored' },
      services: [{ name: 'pager', scopes: ['alerts:read'], metadata: { oncall: 'yes' }, status: 'suspended' }],
    });
    const r = agentsByName(synth(stack).json)['pager-prod'];
    expect(r.metadata).toEqual({ cost_center: 'cc-1', oncall: 'yes', team: 'ops', environment: 'prod', service: 'pager' });
    expect(r.status).toBe('suspended');
  });
});

describe('ServiceAgents with federated credentials per environment', () => {
  const github = (environment: string) => ({ issuer: 'https://token.actions.githubusercontent.com', subject: `repo:acme/billing:environment:${environment}` });

  test("an environment's listed workloads make its agent secretless; the others keep generated keys", () => {
    const stack = stackWithProvider();
    const agents = new ServiceAgents(stack, 'Agents', {
      team: 'billing',
      environments: ['staging', 'prod'],
      services: [{ name: 'invoice-processor', scopes: ['invoices:read'], federatedCredentialsByEnvironment: { prod: [github('prod')] } }],
    });
    expect(agents.agent('invoice-processor', 'prod').secretless).toBe(true);
    expect(agents.agent('invoice-processor', 'staging').secretless).toBe(false);
    expect(() => agents.agent('invoice-processor', 'prod').secretOutput('prod_secret')).toThrow(/secretless/);
    const byName = agentsByName(synth(stack).json);
    expect(byName['invoice-processor-prod'].federated_credential).toEqual([{ issuer: github('prod').issuer, subject: github('prod').subject }]);
    expect(byName['invoice-processor-staging'].federated_credential).toBeUndefined();
  });

  test('credentials are checked with the API rules and unknown environments named, before any agent is made', () => {
    const stack = stackWithProvider();
    expect(violationsOf(() => new ServiceAgents(stack, 'Agents', {
      team: 'billing',
      environments: ['prod'],
      services: [{ name: 'svc', scopes: [], federatedCredentialsByEnvironment: { prod: [{ issuer: 'http://ci.example.test', subject: 's' }], qa: [github('qa')] } }],
    }))).toEqual(
      expect.arrayContaining([
        'service "svc": federatedCredentialsByEnvironment names unknown environment "qa"',
        expect.stringMatching(/^agent "svc-prod": federatedCredentials\[0\]: issuer must be an https URL/),
      ]),
    );
    expect(stack.node.tryFindChild('Agents')?.node.children ?? []).toHaveLength(0);
  });
});
