/** The admin SDK against a real control plane (real Express server, fresh database). */
import {
  AuthenticationError,
  CertusOrdoClient,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
  generateAgentKeyPair,
  jwkThumbprint,
} from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
let client: CertusOrdoClient;

beforeAll(async () => {
  server = await startTestServer();
  client = new CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
});
afterAll(async () => server?.close());

describe('agents', () => {
  it('create → get → update, with camelCase fields and Dates', async () => {
    const created = await client.agents.create({ name: 'sdk-crud', scopes: ['payments:read', 'payments:read'], metadata: { team: 'payments' } });
    expect(created.scopes).toEqual(['payments:read']);
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.lastAuthAt).toBeNull();
    const { publicKey } = await client.agents.get(created.id);
    expect(publicKey).toBe(created.publicKey);
    const updated = await client.agents.update(created.id, { name: 'sdk-crud-2', scopes: ['payments:*'], metadata: { team: 'risk' } });
    expect(updated).toMatchObject({ name: 'sdk-crud-2', scopes: ['payments:*'], metadata: { team: 'risk' } });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
  });

  it('a create retried with the same Idempotency-Key returns the original agent', async () => {
    const a = await client.agents.create({ name: 'sdk-idem' }, { idempotencyKey: 'sdk-idem-key-1' });
    const b = await client.agents.create({ name: 'sdk-idem' }, { idempotencyKey: 'sdk-idem-key-1' });
    expect(b.id).toBe(a.id);
    // same key, other body → conflict
    await expect(client.agents.create({ name: 'sdk-idem-other' }, { idempotencyKey: 'sdk-idem-key-1' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('registers a caller-generated public key (no secret returned); kid is its RFC 7638 thumbprint', async () => {
    const kp = await generateAgentKeyPair();
    const agent = await client.agents.create({ name: 'sdk-own-key', publicKey: kp.publicKey });
    expect(agent.publicKey).toBe(kp.publicKey);
    expect(agent.secret).toBeUndefined();
    const [key] = await client.agents.keys.list(agent.id);
    expect(key!.kid).toBe(kp.kid);
  });

  it('maps server errors to typed errors', async () => {
    await expect(client.agents.get('non-existent-id')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.agents.get('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    const v = await client.agents.create({ name: 'bad name!', scopes: ['Not A Scope'] }).catch((e) => e);
    expect(v).toBeInstanceOf(ValidationError);
    expect(v.details.map((d: { path: string }) => d.path).sort()).toEqual(['name', 'scopes.0']);
    expect(v.requestId).toMatch(/.+/);
    await client.agents.create({ name: 'sdk-dup' });
    await expect(client.agents.create({ name: 'sdk-dup' })).rejects.toMatchObject({ constructor: ConflictError, code: 'conflict' });
  });

  it('lifecycle: revoked is final (invalid_transition), updates of a revoked agent conflict', async () => {
    const a = await client.agents.create({ name: 'sdk-life' });
    expect((await client.agents.suspend(a.id, 'test')).status).toBe('suspended');
    expect((await client.agents.suspend(a.id)).status).toBe('suspended');
    expect((await client.agents.activate(a.id)).status).toBe('active');
    expect((await client.agents.revoke(a.id, 'done')).status).toBe('revoked');
    await expect(client.agents.activate(a.id)).rejects.toMatchObject({ constructor: ConflictError, code: 'invalid_transition' });
    await expect(client.agents.suspend(a.id)).rejects.toMatchObject({ code: 'invalid_transition' });
    await expect(client.agents.update(a.id, { scopes: ['x:y'] })).rejects.toBeInstanceOf(ConflictError);
    // the name is free again
    await expect(client.agents.create({ name: 'sdk-life' })).resolves.toMatchObject({ status: 'active' });
  });

  it('pages through a filtered listing with for-await, page by page, and by cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.agents.create({ name: `sdk-page-${i}` })).id);
    const seen: string[] = [];
    for await (const a of client.agents.list({ namePrefix: 'sdk-page-', limit: 2 })) seen.push(a.id);
    expect(seen).toEqual(ids);
    const first = await client.agents.list({ namePrefix: 'sdk-page-', limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await first.nextPage();
    expect(second.data.map((a) => a.id)).toEqual(ids.slice(2, 4));
    const resumed = await client.agents.listPage({ namePrefix: 'sdk-page-', limit: 2, cursor: second.nextCursor! });
    expect(resumed.data.map((a) => a.id)).toEqual(ids.slice(4));
    expect(resumed.hasNextPage()).toBe(false);
    expect((await client.agents.list({ name: 'sdk-page-3' }).toArray()).map((a) => a.id)).toEqual([ids[3]]);
    expect((await client.agents.list({ namePrefix: 'sdk-page-', neverAuthenticated: true }).toArray())).toHaveLength(5);
  });
});

describe('agent keys', () => {
  it('create (server-generated secret), list, revoke; the last active key cannot be revoked', async () => {
    const agent = await client.agents.create({ name: 'sdk-keys' });
    const [first] = await client.agents.keys.list(agent.id);
    expect(first!.kid).toBe(await jwkThumbprint(agent.publicKey!));
    const second = await client.agents.keys.create(agent.id);
    expect(second.secret).toMatch(new RegExp(`^cos_${agent.id}_`));
    expect(await client.agents.keys.list(agent.id)).toHaveLength(2);
    const revoked = await client.agents.keys.revoke(agent.id, first!.kid);
    expect(revoked.status).toBe('revoked');
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    await expect(client.agents.keys.revoke(agent.id, second.kid)).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('api keys and roles', () => {
  it('create/list/revoke; a revoked key is rejected; roles are enforced', async () => {
    const created = await client.apiKeys.create({ name: 'sdk-reader', role: 'reader' });
    expect(created.key).toMatch(/^aa_/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const listed = await client.apiKeys.list();
    expect(listed.find((k) => k.id === created.id)).not.toHaveProperty('key');

    const reader = new CertusOrdoClient({ apiKey: created.key, baseUrl: server.url });
    await expect(reader.agents.list()).resolves.toBeDefined();
    await expect(reader.agents.create({ name: 'sdk-denied' })).rejects.toBeInstanceOf(PermissionDeniedError);

    const revoked = await client.apiKeys.revoke(created.id);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    const e = await reader.agents.list().catch((x) => x);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(`${e.message} ${e.stack}`).not.toContain(created.key);
  });

  it("another organization's agent is not found", async () => {
    const other = await server.createOrganization('admin');
    const otherClient = new CertusOrdoClient({ apiKey: other.apiKey, baseUrl: server.url });
    const theirs = await otherClient.agents.create({ name: 'sdk-other-org' });
    await expect(client.agents.get(theirs.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('audit events', () => {
  it('lists an agent’s events in seq order and verifies the chain', async () => {
    const a = await client.agents.create({ name: 'sdk-audited' });
    await client.agents.suspend(a.id, 'audit test');
    const events = await client.auditEvents.list({ agentId: a.id }).toArray();
    expect(events.map((e) => e.action)).toEqual(['agent.created', 'agent.suspended']);
    expect(events[1]).toMatchObject({ targetId: a.id, reason: 'audit test', outcome: 'success' });
    expect(events[0]!.seq).toBeLessThan(events[1]!.seq);
    expect(events[0]!.createdAt).toBeInstanceOf(Date);
    const suspended = await client.auditEvents.list({ action: 'agent.suspended', limit: 1 }).toArray();
    expect(suspended.every((e) => e.action === 'agent.suspended')).toBe(true);
    const v = await client.auditEvents.verify();
    expect(v).toMatchObject({ valid: true, firstBrokenSeq: null });
    expect(v.eventsChecked).toBeGreaterThan(2);
  });
});
