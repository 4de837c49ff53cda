/**
 * API keys: the role is explicit, the organization's last active admin key cannot be revoked (even
 * by racing revocations), and a key's prefix stays behind the admin-only list (not in the audit log).
 */
import { startTestServer, TestServer } from '../support/server';
import { client, Client, expectError } from '../support/http';
import { systemContext } from '../../api/src/services/organizations';

let s: TestServer;
let admin: Client;
beforeAll(async () => {
  s = await startTestServer();
  admin = client(s.url, s.apiKey);
});
afterAll(async () => s?.close());

test('POST /v1/api-keys without a role is a validation error naming `role`; nothing is created', async () => {
  const before = (await admin.get('/v1/api-keys')).body.data.length;
  const res = await admin.post('/v1/api-keys', { name: 'no-role' });
  expectError(res, 400, 'validation_error');
  expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain('role');
  expect((await admin.get('/v1/api-keys')).body.data.length).toBe(before);
  expect((await admin.post('/v1/api-keys', { name: 'explicit', role: 'admin' })).status).toBe(201);
});

test("revoking the organization's last active admin key is a 409 conflict; with another admin it works", async () => {
  const org = await s.createOrganization('admin');
  const a = client(s.url, org.apiKey);
  const keys = (await a.get('/v1/api-keys')).body.data as Array<{ id: string; role: string }>;
  expect(keys).toHaveLength(1);
  const only = keys[0]!.id;

  // A reader key does not count as an admin.
  expect((await a.post('/v1/api-keys', { name: 'reader', role: 'reader' })).status).toBe(201);
  const refused = await a.post(`/v1/api-keys/${only}/revoke`);
  expectError(refused, 409, 'conflict');
  expect(refused.body.error.message).toMatch(/last active admin key/);
  expect(refused.body.error.message).toMatch(/Create another admin key first/);
  expect((await a.get('/v1/api-keys')).status).toBe(200); // still usable

  const second = await a.post('/v1/api-keys', { name: 'second admin', role: 'admin' });
  expect((await a.post(`/v1/api-keys/${only}/revoke`)).status).toBe(200);
  // Now the second is the last one: it cannot revoke itself.
  const b = client(s.url, second.body.key);
  expectError(await b.post(`/v1/api-keys/${second.body.id}/revoke`), 409, 'conflict');
  // Revoking an already revoked admin key is not blocked by the rule (nothing changes).
  expect((await b.post(`/v1/api-keys/${only}/revoke`)).status).toBe(200);
});

test('two concurrent revocations of the last two admin keys: exactly one succeeds', async () => {
  const orgs = s.running.services.organizations;
  for (let round = 0; round < 8; round++) {
    const org = await s.createOrganization('admin');
    const ctx = systemContext(org.organizationId);
    const second = await orgs.createApiKey(ctx, { name: 'second', role: 'admin' });
    const ids = (await orgs.listApiKeys(org.organizationId)).map((k) => k.id);
    expect(ids).toContain(second.id);

    // Straight to the service: on PostgreSQL the pool runs both transactions at once. (Over HTTP the
    // loser could also see its own key revoked first and get a 401, which proves nothing.)
    const results = await Promise.allSettled(ids.map((id) => orgs.revokeApiKey(ctx, id)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(refused).toHaveLength(1);
    expect((refused[0]!.reason as { code?: string }).code).toBe('conflict');
    const active = (await orgs.listApiKeys(org.organizationId)).filter((k) => k.role === 'admin' && k.revoked_at === null);
    expect(active).toHaveLength(1);
  }
});

test("a reader key sees the api_key.created event (name, role) but never the new key's prefix", async () => {
  const created = await admin.post('/v1/api-keys', { name: 'audited', role: 'operator' });
  expect(created.status).toBe(201);
  expect(created.body.prefix).toMatch(/^aa_.{8}$/);
  const reader = client(s.url, await s.createApiKey('reader'));
  const events = (await reader.get('/v1/audit-events?action=api_key.created&order=desc&limit=10')).body.data as Array<{ target_id: string; data: Record<string, unknown> }>;
  const event = events.find((e) => e.target_id === created.body.id)!;
  expect(event.data).toEqual({ name: 'audited', role: 'operator' });
  expect(JSON.stringify(events)).not.toContain(created.body.prefix);
});
