/** Agent credentials, sessions, JWKS verification and introspection against a real control plane. */
import {
  AgentCredentials,
  AuthenticationError,
  CertusOrdoClient,
  CertusOrdoError,
  generateAgentKeyPair,
  NotFoundError,
  organizationIssuer,
  TokenVerificationError,
  ValidationError,
  verifyAccessToken,
} from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
let client: CertusOrdoClient;
/** What a relying service of the bootstrap organization is configured with. */
let mine: { baseUrl: string; organizationId: string };

beforeAll(async () => {
  server = await startTestServer();
  client = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
  mine = { baseUrl: server.url, organizationId: server.organizationId };
});
afterAll(async () => server?.close());

it('an agent authenticates from its secret; the token verifies locally and introspects as active', async () => {
  const agent = await client.agents.create({ name: 'auth-payments', scopes: ['payments:read', 'payments:write'] });
  const creds = AgentCredentials.fromSecret(agent.secret!, { baseUrl: server.url });
  expect(creds.agentId).toBe(agent.id);

  const token = await creds.getToken();
  expect(await creds.getToken()).toBe(token); // cached

  const claims = await verifyAccessToken(token, mine);
  expect(claims.sub).toBe(agent.id);
  expect(claims.organizationId).toBe(server.organizationId);
  // the issuer form is the same check
  await expect(verifyAccessToken(token, { issuer: organizationIssuer(server.url, server.organizationId) })).resolves.toMatchObject({ sub: agent.id });
  expect(claims.scopes.sort()).toEqual(['payments:read', 'payments:write']);

  const info = await client.introspect(token);
  expect(info).toMatchObject({ active: true, sub: agent.id, clientId: agent.id });
  expect(info.scope!.split(' ').sort()).toEqual(['payments:read', 'payments:write']);

  // a narrower token on request
  const narrow = await creds.getAccessToken({ scope: 'payments:read' });
  expect(narrow.scope).toBe('payments:read');
  expect(narrow.expiresAt.getTime()).toBeGreaterThan(Date.now());

  // the agent is no longer "never authenticated"
  expect((await client.agents.get(agent.id)).lastAuthAt).toBeInstanceOf(Date);
});

it('a caller-generated key works through fromKey', async () => {
  const kp = await generateAgentKeyPair();
  const agent = await client.agents.create({ name: 'auth-own-key', scopes: ['reports:read'], publicKey: kp.publicKey });
  const creds = AgentCredentials.fromKey({ agentId: agent.id, privateKey: kp.privateKey, baseUrl: server.url });
  expect(await creds.kid()).toBe(kp.kid);
  const info = await client.introspect(await creds.getToken());
  expect(info).toMatchObject({ active: true, sub: agent.id, scope: 'reports:read' });
});

it('scopes beyond the agent’s are refused with a typed OAuth error', async () => {
  const agent = await client.agents.create({ name: 'auth-scope', scopes: ['data:read'] });
  const creds = AgentCredentials.fromSecret(agent.secret!, { baseUrl: server.url });
  const e = await creds.getToken({ scope: 'data:delete' }).catch((x) => x);
  expect(e).toBeInstanceOf(ValidationError);
  expect(e).toMatchObject({ status: 400, code: 'invalid_scope' });
});

it('opens a bounded session whose token carries the session id', async () => {
  const agent = await client.agents.create({ name: 'auth-session', scopes: ['payments:read', 'payments:write'] });
  const creds = AgentCredentials.fromSecret(agent.secret!, { baseUrl: server.url });
  const session = await creds.openSession({ scopes: ['payments:read'], ttlSeconds: 600, maxOperations: 5, purpose: 'nightly reconciliation' });
  expect(session).toMatchObject({ agentId: agent.id, scopes: ['payments:read'], maxOperations: 5, operationsUsed: 0, status: 'active', purpose: 'nightly reconciliation' });
  expect(session.expiresAt.getTime()).toBeGreaterThan(Date.now());
  const claims = await verifyAccessToken(session.accessToken, mine);
  expect(claims.sid).toBe(session.id);
  expect(claims.scopes).toEqual(['payments:read']);
  expect(await client.introspect(session.accessToken)).toMatchObject({ active: true, sid: session.id });
});

it('suspension: introspection turns inactive at once, new tokens are refused; local verification lasts until exp', async () => {
  const agent = await client.agents.create({ name: 'auth-suspended', scopes: ['data:read'] });
  const creds = AgentCredentials.fromSecret(agent.secret!, { baseUrl: server.url });
  const token = await creds.getToken();
  await client.agents.suspend(agent.id, 'test');
  expect(await client.introspect(token)).toEqual({ active: false, raw: { active: false } });
  await expect(verifyAccessToken(token, mine)).resolves.toMatchObject({ sub: agent.id });
  const e = await creds.getToken({ forceRefresh: true }).catch((x) => x);
  expect(e).toBeInstanceOf(AuthenticationError);
  expect(e.code).toBe('invalid_grant');
});

it('rejects tokens that are not ours', async () => {
  await expect(verifyAccessToken('not.a.jwt', mine)).rejects.toBeInstanceOf(TokenVerificationError);
  expect((await client.introspect('garbage')).active).toBe(false);
  // an unknown agent's assertion
  const kp = await generateAgentKeyPair();
  const ghost = AgentCredentials.fromKey({ agentId: '00000000-0000-4000-8000-000000000000', privateKey: kp.privateKey, baseUrl: server.url });
  const e = await ghost.getToken().catch((x) => x);
  expect(e).toBeInstanceOf(AuthenticationError);
  expect(e).toBeInstanceOf(CertusOrdoError);
  expect(e.code).toBe('invalid_client');
});

it("another organization's relying service refuses the token; a token for a resource carries it as aud", async () => {
  const other = await server.createOrganization('reader');
  const agent = await client.agents.create({ name: 'auth-boundary', scopes: ['payments:read'] });
  const creds = AgentCredentials.fromSecret(agent.secret!, { baseUrl: server.url });
  const token = await creds.getToken();
  const theirs = { baseUrl: server.url, organizationId: other.organizationId };
  // Their keys do not even hold the token's key (ERR_JWKS_NO_MATCHING_KEY); their issuer would refuse it next.
  await expect(verifyAccessToken(token, theirs)).rejects.toBeInstanceOf(TokenVerificationError);
  await expect(verifyAccessToken(token, { ...theirs, jwksUrl: `${server.url}/orgs/${server.organizationId}/.well-known/jwks.json` })).rejects.toMatchObject({
    code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
  });
  // and their introspection says inactive
  expect((await new CertusOrdoClient({ apiKey: other.apiKey, baseUrl: server.url }).introspect(token)).active).toBe(false);

  const resource = 'https://payments.example.com/';
  const forPayments = await creds.getToken({ resource });
  expect(forPayments).not.toBe(token);
  await expect(verifyAccessToken(forPayments, { ...mine, audience: resource })).resolves.toMatchObject({ audience: [resource] });
  await expect(verifyAccessToken(forPayments, { ...mine, audience: 'https://reports.example.com/' })).rejects.toBeInstanceOf(TokenVerificationError);
  // a token without resource is addressed to the organization's issuer, not to the payments service
  await expect(verifyAccessToken(token, { ...mine, audience: resource })).rejects.toBeInstanceOf(TokenVerificationError);

  const both = await creds.getAccessToken({ resource: [resource, 'https://reports.example.com/'] });
  await expect(verifyAccessToken(both.accessToken, { ...mine, audience: 'https://reports.example.com/' })).resolves.toMatchObject({
    audience: [resource, 'https://reports.example.com/'],
  });

  // an unknown organization is a configuration error, not a bad token
  const e = await verifyAccessToken(token, { baseUrl: server.url, organizationId: '00000000-0000-4000-8000-000000000000' }).catch((x) => x);
  expect(e).toBeInstanceOf(NotFoundError);
});

it('delegation: an actor exchanges the subject\'s token; verifiers see the chain and can refuse it', async () => {
  const subject = await client.agents.create({ name: 'deleg-orchestrator', scopes: ['payments:read', 'payments:write'] });
  const actor = await client.agents.create({ name: 'deleg-payments', scopes: ['payments:read'] });
  const grant = await client.agents.grantDelegation(subject.id, actor.id);
  expect(grant).toMatchObject({ subjectAgentId: subject.id, actorAgentId: actor.id, createdAt: expect.any(Date) });
  expect((await client.agents.get(subject.id)).mayAct).toEqual([actor.id]);
  await expect(client.agents.getDelegation(subject.id, actor.id)).resolves.toMatchObject({ actorAgentId: actor.id });

  const subjectToken = await AgentCredentials.fromSecret(subject.secret!, { baseUrl: server.url }).getToken();
  const actorCreds = AgentCredentials.fromSecret(actor.secret!, { baseUrl: server.url });
  const resource = 'https://ledger.example.com/';
  const delegated = await actorCreds.exchangeToken(subjectToken, { resource });
  expect(delegated.scope).toBe('payments:read');

  const verified = await verifyAccessToken(delegated.accessToken, { ...mine, audience: resource });
  expect(verified).toMatchObject({ sub: subject.id, actors: [actor.id], actor: actor.id, clientId: actor.id });
  await expect(verifyAccessToken(delegated.accessToken, { ...mine, audience: resource, maxDelegationDepth: 1 })).resolves.toMatchObject({ actors: [actor.id] });
  await expect(verifyAccessToken(delegated.accessToken, { ...mine, audience: resource, maxDelegationDepth: 0 })).rejects.toMatchObject({ code: 'ERR_DELEGATION_DEPTH' });
  await expect(verifyAccessToken(subjectToken, { ...mine, maxDelegationDepth: 0 })).resolves.toMatchObject({ sub: subject.id, actors: [], actor: subject.id });
  await expect(verifyAccessToken(subjectToken, { ...mine, maxDelegationDepth: -1 })).rejects.toBeInstanceOf(TypeError);
  expect(await client.introspect(delegated.accessToken)).toMatchObject({ active: true, sub: subject.id, actors: [actor.id] });

  await client.agents.removeDelegation(subject.id, actor.id);
  expect((await client.introspect(delegated.accessToken)).active).toBe(false);
  await expect(client.agents.getDelegation(subject.id, actor.id)).rejects.toBeInstanceOf(NotFoundError);
  await expect(actorCreds.exchangeToken(subjectToken)).rejects.toMatchObject({ code: 'invalid_grant' });
});
