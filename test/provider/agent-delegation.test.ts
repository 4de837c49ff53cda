/**
 * certusordo_agent_delegation with the real terraform: the declared pair may exchange tokens and
 * no other agent may; A↔B grants apply without a dependency cycle; `may_act` shows on the agent;
 * import by `<subject>/<actor>`; removing the resource ends the actor's delegated tokens at once.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentCredentials, CertusOrdoClient } from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';
import { PROTOCOL_VIOLATIONS, PROVIDER_BLOCK, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';

jest.setTimeout(300_000);

describeWithTerraform('certusordo_agent_delegation with terraform', () => {
  let server: TestServer;
  let sdk: CertusOrdoClient;
  let root: string;
  let ws: TfWorkspace;

  const config = (grants: Array<[string, string]>): string => `${PROVIDER_BLOCK}
${['orchestrator', 'payments', 'stranger']
  .map((n) => `resource "certusordo_agent" "${n}" {\n  name   = "deleg-${n}"\n  scopes = ["payments:read"]\n}`)
  .join('\n')}
${grants
  .map(([s, a]) => `resource "certusordo_agent_delegation" "${a}_for_${s}" {\n  subject_agent_id = certusordo_agent.${s}.id\n  actor_agent_id   = certusordo_agent.${a}.id\n}`)
  .join('\n')}
`;

  const tf = async (args: string[], ok: number[] = [0]) => {
    const res = await ws.must(args, ok);
    expect(res.all).not.toMatch(PROTOCOL_VIOLATIONS);
    return res;
  };
  const managed = (type: string, name: string) => ws.managed(type, name);
  const agent = (name: string) => managed('certusordo_agent', name) as { id: string; secret: string; may_act: string[] };
  const creds = (name: string) => AgentCredentials.fromSecret(agent(name).secret, { baseUrl: server.url });

  beforeAll(async () => {
    ensureProviderBuilt();
    server = await startTestServer();
    sdk = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-delegation-'));
    ws = new TfWorkspace(installForTests(root), { endpoint: server.url, apiKey: server.apiKey });
  });
  afterAll(async () => {
    ws?.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  it('declares who may act for whom; the exchange works for the declared pair only; removal ends the tokens', async () => {
    ws.write({ 'main.tf': config([['orchestrator', 'payments'], ['payments', 'orchestrator']]) });
    await tf(['init', '-no-color']);
    await tf(['apply', '-auto-approve', '-no-color']);
    const [o, p] = [agent('orchestrator'), agent('payments')];
    const grant = managed('certusordo_agent_delegation', 'payments_for_orchestrator')!;
    expect(grant).toEqual({ id: `${o.id}/${p.id}`, subject_agent_id: o.id, actor_agent_id: p.id, created_at: expect.any(String) });
    expect((await sdk.agents.get(o.id)).mayAct).toEqual([p.id]);
    expect((await sdk.agents.get(p.id)).mayAct).toEqual([o.id]);
    // No change to plan; the agent's may_act follows on refresh.
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);
    await tf(['apply', '-refresh-only', '-auto-approve', '-no-color']);
    expect(agent('orchestrator').may_act).toEqual([p.id]);

    const subjectToken = await creds('orchestrator').getToken();
    const delegated = await creds('payments').exchangeToken(subjectToken);
    expect(await sdk.introspect(delegated.accessToken)).toMatchObject({ active: true, sub: o.id, actors: [p.id] });
    await expect(creds('stranger').exchangeToken(subjectToken)).rejects.toMatchObject({ code: 'invalid_grant' });

    // Import by <subject>/<actor>.
    await tf(['state', 'rm', '-no-color', 'certusordo_agent_delegation.payments_for_orchestrator']);
    const bad = await ws.run(['import', '-no-color', 'certusordo_agent_delegation.payments_for_orchestrator', o.id]);
    expect(bad.code).toBe(1);
    expect(bad.all).toContain('Invalid import id');
    await tf(['import', '-no-color', 'certusordo_agent_delegation.payments_for_orchestrator', `${o.id}/${p.id}`]);
    expect(managed('certusordo_agent_delegation', 'payments_for_orchestrator')).toEqual(grant);
    await tf(['plan', '-no-color', '-detailed-exitcode'], [0]);

    // Removing the grant ends the actor's delegated token at once, and the exchange is refused.
    ws.write({ 'main.tf': config([['payments', 'orchestrator']]) });
    const plan = await tf(['plan', '-no-color', '-detailed-exitcode'], [2]);
    expect(plan.stdout).toContain('Plan: 0 to add, 0 to change, 1 to destroy.');
    await tf(['apply', '-auto-approve', '-no-color']);
    expect((await sdk.introspect(delegated.accessToken)).active).toBe(false);
    await expect(creds('payments').exchangeToken(subjectToken)).rejects.toMatchObject({ code: 'invalid_grant' });

    // A grant removed outside Terraform is planned again.
    await sdk.agents.removeDelegation(p.id, o.id);
    const again = await tf(['plan', '-no-color', '-detailed-exitcode'], [2]);
    expect(again.stdout).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');

    await tf(['destroy', '-auto-approve', '-no-color']);
  });
});
