import { Aspects, Testing } from 'cdktf';
import { AgentBestPractices, CertusOrdoAgent, ServiceAgents, WARNING_IDS, isVagueAgentName } from '../../constructs/src';
import { stackWithProvider, synth, warnings } from './helpers';

describe('AgentBestPractices', () => {
  test.each(['agent', 'agent1', 'Agent-2', 'test', 'test3', 'bot', 'tmp', 'all-services', 'shared'])('"%s" is vague', (name) => {
    expect(isVagueAgentName(name)).toBe(true);
  });

  test.each(['invoice-processor-prod', 'customer-support-agent-v2', 'data-sync-staging', 'agentic-router-dev', 'test-runner-ci'])(
    '"%s" is not vague',
    (name) => expect(isVagueAgentName(name)).toBe(false),
  );

  test('warns (does not fail) about vague names, at the agent', () => {
    const stack = stackWithProvider();
    const vague = new CertusOrdoAgent(stack, 'A', { name: 'agent1' });
    new CertusOrdoAgent(stack, 'B', { name: 'invoice-processor-dev' });
    Aspects.of(stack).add(new AgentBestPractices());
    synth(stack);
    expect(warnings(stack)).toEqual([expect.stringContaining(`[${WARNING_IDS.vagueName}] Agent name "agent1" is vague`)]);
    expect(warnings(vague)).toHaveLength(1);
  });

  test('warns about wildcard scopes on production agents only (environment metadata or -prod name)', () => {
    const stack = stackWithProvider();
    new CertusOrdoAgent(stack, 'ByMeta', { name: 'reports-live-a', scopes: ['reports:*'], metadata: { environment: 'production' } });
    new CertusOrdoAgent(stack, 'ByName', { name: 'exporter-prod', scopes: ['exports:read', 'files:*', 'data:*'] });
    new CertusOrdoAgent(stack, 'Dev', { name: 'exporter-dev', scopes: ['files:*'] });
    const granted = new CertusOrdoAgent(stack, 'Granted', { name: 'archiver-prod', scopes: ['archive:read'] });
    granted.grantAllActions('archive');
    new ServiceAgents(stack, 'Agents', {
      team: 'data',
      environments: [{ name: 'dev', access: 'read-only' }, 'prod'],
      services: [{ name: 'loader', scopes: ['tables:*'] }],
    });
    Aspects.of(stack).add(new AgentBestPractices());
    synth(stack);
    const w = warnings(stack).filter((m) => m.includes(WARNING_IDS.wildcardInProduction));
    expect(w).toEqual(
      expect.arrayContaining([
        expect.stringContaining('"reports-live-a" has wildcard scope "reports:*"'),
        expect.stringContaining('"exporter-prod" has wildcard scopes "files:*", "data:*"'),
        expect.stringContaining('"archiver-prod" has wildcard scope "archive:*"'),
        expect.stringContaining('"loader-prod" has wildcard scope "tables:*"'),
      ]),
    );
    expect(w).toHaveLength(4);
  });

  test('productionEnvironments and allProduction are configurable', () => {
    const stack = stackWithProvider();
    new CertusOrdoAgent(stack, 'Live', { name: 'sync-main', scopes: ['x:*'], metadata: { environment: 'main' } });
    Aspects.of(stack).add(new AgentBestPractices({ productionEnvironments: ['main'] }));
    synth(stack);
    expect(warnings(stack)).toHaveLength(1);

    const all = stackWithProvider();
    new CertusOrdoAgent(all, 'Any', { name: 'sync-worker', scopes: ['x:*'] });
    Aspects.of(all).add(new AgentBestPractices({ allProduction: true }));
    synth(all);
    expect(warnings(all)).toEqual([expect.stringContaining(WARNING_IDS.wildcardInProduction)]);
  });

  test('a stack-level aspect runs on app.synth(); cdktf does not apply aspects added to the App itself', () => {
    const app = Testing.app();
    const stack = stackWithProvider(app);
    new CertusOrdoAgent(stack, 'T', { name: 'test' });
    Aspects.of(app).add(new AgentBestPractices());
    app.synth();
    // cdktf invokes aspects per stack, starting at the stack: an App-level aspect is never visited.
    expect(warnings(stack)).toEqual([]);

    const app2 = Testing.app();
    const stack2 = stackWithProvider(app2);
    new CertusOrdoAgent(stack2, 'T', { name: 'test' });
    Aspects.of(stack2).add(new AgentBestPractices());
    app2.synth();
    expect(warnings(stack2)).toEqual([expect.stringContaining('Agent name "test" is vague')]);
  });
});
