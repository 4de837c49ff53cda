/**
 * A secretless agent through the SDK against a real control plane: created with a federated
 * credential (no key, no secret), authenticated from a platform token file that the platform
 * rewrites, read again by AgentCredentials on every token request.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AgentCredentials, AuthenticationError, CertusOrdoClient, ConflictError, verifyAccessToken } from '../../sdk/src';
import { makeKey, signToken } from '../support/oidc-issuer';
import { startTestServer, type TestServer } from '../support/server';

const CLUSTER = 'https://kubernetes.default.svc.cluster.local';
const SA = 'system:serviceaccount:payments:deployer';

let server: TestServer;
let client: CertusOrdoClient;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  client = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
  dir = mkdtempSync(path.join(os.tmpdir(), 'certusordo-token-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('a secretless agent authenticates from a rotating token file; its credentials are managed through the SDK', async () => {
  const key = makeKey('ES256');
  const audience = `${server.url}/orgs/${server.organizationId}`;
  const agent = await client.agents.create({
    name: 'sdk-secretless', scopes: ['deploy:write'],
    federatedCredentials: [{ issuer: CLUSTER, subject: SA, jwks: { keys: [key.jwk] } }],
  });
  expect(agent.publicKey).toBeNull();
  expect(agent.secret).toBeUndefined();
  expect(await client.agents.keys.list(agent.id)).toEqual([]);
  const [credential] = await client.agents.federatedCredentials.list(agent.id);
  expect(credential).toMatchObject({ issuer: CLUSTER, subject: SA, audience, status: 'active', revokedAt: null });

  const file = path.join(dir, 'token');
  const rotate = async () => writeFileSync(file, `${await signToken(key, { iss: CLUSTER, sub: SA, aud: audience })}\n`);
  await rotate();
  const creds = AgentCredentials.fromPlatformToken(agent.id, () => readFile(file, 'utf8'), { baseUrl: server.url });
  const token = await creds.getToken();
  expect((await verifyAccessToken(token, { baseUrl: server.url, organizationId: server.organizationId })).sub).toBe(agent.id);

  // The file is read again on every token request: a broken file fails, the rotated one works.
  writeFileSync(file, 'not-a-token');
  await expect(creds.getToken({ forceRefresh: true })).rejects.toBeInstanceOf(AuthenticationError);
  await rotate();
  expect(await creds.getToken({ forceRefresh: true })).not.toBe(token);
  await expect(creds.kid()).rejects.toThrow(/no key/);

  // The last credential of an agent without keys cannot be removed; another one first.
  await expect(client.agents.federatedCredentials.revoke(agent.id, credential!.id)).rejects.toBeInstanceOf(ConflictError);
  const second = await client.agents.federatedCredentials.create(agent.id, { issuer: CLUSTER, subject: 'system:serviceaccount:payments:other', jwks: { keys: [key.jwk] } });
  expect((await client.agents.federatedCredentials.revoke(agent.id, credential!.id)).status).toBe('revoked');
  expect((await client.agents.federatedCredentials.list(agent.id)).map((c) => [c.id, c.status])).toEqual([[credential!.id, 'revoked'], [second.id, 'active']]);
  await expect(creds.getToken({ forceRefresh: true })).rejects.toBeInstanceOf(AuthenticationError);
});
