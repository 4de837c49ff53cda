/**
 * Every example of examples/sdk, run as written against a real control plane (a fresh server and
 * database for each, since the examples use the guide's fixed names).
 */
import { CertusOrdoClient } from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';
import * as createAgent from '../../examples/sdk/create-agent';
import * as naming from '../../examples/sdk/naming';
import * as scopes from '../../examples/sdk/scopes';
import * as listAgents from '../../examples/sdk/list-agents';
import * as getAgent from '../../examples/sdk/get-agent';
import * as lifecycle from '../../examples/sdk/lifecycle';
import * as rotate from '../../examples/sdk/rotate-credentials';
import * as metadata from '../../examples/sdk/metadata';
import * as onePerService from '../../examples/sdk/one-agent-per-service';
import * as environments from '../../examples/sdk/environment-separation';
import * as inactivity from '../../examples/sdk/inactivity-audit';
import * as errorHandling from '../../examples/sdk/error-handling';
import * as authenticate from '../../examples/sdk/authenticate-agent';
import { runStandalone } from '../../examples/sdk/run';

let server: TestServer;
let client: CertusOrdoClient;
let logs: string[];

beforeEach(async () => {
  server = await startTestServer();
  client = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logs.push(args.map(String).join(' ')));
});
afterEach(async () => {
  jest.restoreAllMocks();
  await server.close();
});

it('create-agent: returns the secret once, in the cos_<id>_<seed> format', async () => {
  const agent = await createAgent.main(client);
  expect(agent).toMatchObject({ name: 'payment-processor', scopes: ['payments:read', 'payments:write'], status: 'active' });
  expect(agent.secret).toMatch(new RegExp(`^cos_${agent.id}_[A-Za-z0-9_-]{43}$`));
  expect(logs).toContain(`Agent ID: ${agent.id}`);
  const fetched = await client.agents.get(agent.id);
  expect(fetched).not.toHaveProperty('secret');
  expect(fetched.publicKey).toBe(agent.publicKey);
});

it('naming', async () => {
  const agents = await naming.main(client);
  expect(agents.map((a) => a.name)).toEqual(['invoice-processor-prod', 'customer-support-agent-v2', 'data-sync-staging']);
});

it('scopes', async () => {
  const { reader, admin } = await scopes.main(client);
  expect(reader.scopes).toEqual(['data:read', 'reports:read']);
  expect(admin.scopes).toEqual(['data:read', 'data:write', 'data:delete', 'admin:manage']);
});

it('list-agents: iterates all pages and filters by status', async () => {
  // more agents than one page (the default page size is 50), one of them suspended
  const created = [];
  for (let i = 0; i < 53; i++) created.push(await client.agents.create({ name: `payment-${String(i).padStart(2, '0')}` }));
  await client.agents.suspend(created[7]!.id);
  const { all, active, firstPage } = await listAgents.main(client);
  expect(all.map((a) => a.id)).toEqual(created.map((a) => a.id));
  expect(active).toHaveLength(52);
  expect(active.map((a) => a.id)).not.toContain(created[7]!.id);
  expect(firstPage).toHaveLength(20);
  expect(logs).toContain('payment-07: suspended');
});

it('get-agent', async () => {
  const created = await client.agents.create({ name: 'payment-processor', scopes: ['payments:read'] });
  const agent = await getAgent.main(client, created.id);
  expect(agent.createdAt).toBeInstanceOf(Date);
  expect(agent.lastAuthAt).toBeNull();
  expect(logs).toEqual([
    'Name: payment-processor',
    'Status: active',
    'Scopes: payments:read',
    `Created: ${created.createdAt.toISOString()}`,
    'Last Auth: never',
  ]);
  // standalone default: the first agent listed
  expect((await getAgent.main(client)).id).toBe(created.id);
});

it('lifecycle: suspend → activate → revoke; a revoked agent cannot be reactivated', async () => {
  const result = await lifecycle.main(client);
  expect(result).toEqual({ afterSuspend: 'suspended', afterActivate: 'active', final: 'revoked' });
  expect(logs.some((l) => l.includes('invalid_transition'))).toBe(true);
});

it('rotate-credentials: revokes the agent and creates <name>-rotated with the same scopes', async () => {
  const compromised = await client.agents.create({ name: 'payment-processor', scopes: ['payments:read', 'payments:write'] });
  const { newAgent } = await rotate.main(client, compromised.id);
  expect((await client.agents.get(compromised.id)).status).toBe('revoked');
  expect(newAgent).toMatchObject({ name: 'payment-processor-rotated', scopes: ['payments:read', 'payments:write'], status: 'active' });
  expect(newAgent.secret).toBeDefined();
  expect(newAgent.id).not.toBe(compromised.id);
  // and without an id, on its own demo agent
  const demo = await rotate.main(client);
  expect(demo.newAgent.name).toBe('billing-agent-rotated');
});

it('metadata', async () => {
  const { created, updated } = await metadata.main(client);
  expect(created.metadata).toEqual({ environment: 'production', team: 'data-engineering', version: '1.2.0' });
  expect(updated.metadata).toEqual({ environment: 'production', team: 'data-engineering', version: '1.3.0' });
});

it('one-agent-per-service', async () => {
  const { paymentAgent, emailAgent } = await onePerService.main(client);
  expect([paymentAgent.name, emailAgent.name]).toEqual(['payment-service', 'email-service']);
  expect(paymentAgent.publicKey).not.toBe(emailAgent.publicKey);
});

it('environment-separation', async () => {
  const { devAgent, stagingAgent, prodAgent } = await environments.main(client);
  expect(devAgent.scopes).toEqual(['read']);
  expect(stagingAgent.scopes).toEqual(['read', 'write']);
  expect(prodAgent.scopes).toEqual(['read', 'write']);
});

it('inactivity-audit: agents that never authenticated are reported, revoked ones are not', async () => {
  await client.agents.create({ name: 'data-sync-staging' });
  await client.agents.create({ name: 'invoice-processor-prod' });
  const retired = await client.agents.create({ name: 'retired-bot' });
  await client.agents.revoke(retired.id);
  const r = await inactivity.main(client);
  expect(r.neverUsed).toEqual(['data-sync-staging', 'invoice-processor-prod']);
  expect(r.inactive).toEqual([]);
  expect(r.neverUsedServer).toEqual(['data-sync-staging', 'invoice-processor-prod']);
  expect(logs).toContain('Never used: data-sync-staging');
  expect(logs.some((l) => l.includes('retired-bot'))).toBe(false);
});

it('error-handling: get("non-existent-id") → NotFoundError, create({name: ""}) → ValidationError', async () => {
  expect(await errorHandling.main(client)).toEqual(['NotFoundError', 'ValidationError']);
  expect(logs[0]).toBe('Agent not found');
  expect(logs[1]).toMatch(/^Invalid input: /);
  expect(logs.some((l) => l.includes('name:'))).toBe(true);
});

it('authenticate-agent: secret → token → local verification and introspection → session', async () => {
  const r = await authenticate.main(client);
  expect(r.claims).toMatchObject({ sub: r.agentId, scopes: ['invoices:read'], organizationId: server.organizationId });
  expect(r.claims.payload.iss).toBe(`${server.url}/orgs/${server.organizationId}`);
  expect(r.active).toBe(true);
  expect(r.session).toMatchObject({ scopes: ['invoices:read'], maxOperations: 10, status: 'active' });
  expect((await client.agents.get(r.agentId)).lastAuthAt).toBeInstanceOf(Date);
});

it('a standalone run cleans up after itself, so an example runs twice in a row (and --keep keeps)', async () => {
  const env = { ...process.env };
  const argv = process.argv;
  const errors: string[] = [];
  jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.map(String).join(' ')));
  try {
    process.env.CERTUSORDO_API_KEY = server.apiKey;
    process.env.CERTUSORDO_ENDPOINT = server.url;
    process.argv = [argv[0]!, 'create-agent.js'];
    await runStandalone(createAgent.main);
    await runStandalone(createAgent.main); // the same name again: free, because the first run revoked its agent
    expect(process.exitCode ?? 0).toBe(0);
    expect(errors.filter((e) => e.startsWith('Cleaned up: revoked the 1 agent(s)'))).toHaveLength(2);
    process.argv = [argv[0]!, 'create-agent.js', '--keep'];
    await runStandalone(createAgent.main);
  } finally {
    process.env = env;
    process.argv = argv;
  }
  const mine = await client.agents.list({ name: 'payment-processor' });
  expect(mine.data.map((a) => a.status).sort()).toEqual(['active', 'revoked', 'revoked']);
});
