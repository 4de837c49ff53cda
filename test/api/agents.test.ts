/** The agents API: creation, validation, reads, updates, lifecycle, idempotency, listing. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { client, Client, expectError } from '../support/http';
import { purgeExpiredIdempotencyKeys } from '../../api/src/services/idempotency';

let s: TestServer;
let api: Client;
beforeAll(async () => {
  s = await startTestServer();
  api = client(s.url, s.apiKey);
});
afterAll(async () => s?.close());

let n = 0;
const uniq = (base = 'agent') => `${base}-${++n}-${Date.now().toString(36)}`;
const create = async (body: object = {}) => {
  const res = await api.post('/v1/agents', { name: uniq(), ...body });
  expect(res.status).toBe(201);
  return res.body;
};

function rawPublicKey(pem: ReturnType<typeof generateKeyPairSync>['publicKey']): string {
  return (pem as import('node:crypto').KeyObject).export({ format: 'der', type: 'spki' }).subarray(12).toString('base64url');
}

describe('create', () => {
  test('generates a key pair and returns the secret once', async () => {
    const res = await api.post('/v1/agents', { name: 'payment-processor', scopes: ['payments:read', 'payments:write'], metadata: { team: 'payments' } });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const a = res.body;
    expect(a).toMatchObject({ name: 'payment-processor', scopes: ['payments:read', 'payments:write'], status: 'active', metadata: { team: 'payments' }, last_auth_at: null, may_act: [] });
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Object.keys(a).sort()).toEqual(['created_at', 'id', 'last_auth_at', 'may_act', 'metadata', 'name', 'public_key', 'scopes', 'secret', 'status', 'updated_at']);
    expect(a.secret).toMatch(new RegExp(`^cos_${a.id}_[A-Za-z0-9_-]{43}$`));
    // The secret's seed really is the private half of public_key.
    const seed = Buffer.from(a.secret.slice(-43), 'base64url');
    const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    const pub = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(a.public_key, 'base64url')]), format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from('hi'), pub, sign(null, Buffer.from('hi'), priv))).toBe(true);
    const again = await api.get(`/v1/agents/${a.id}`);
    expect(again.body.secret).toBeUndefined();
    expect(JSON.stringify(again.body)).not.toContain(a.secret.slice(-43));
  });

  test('bring your own key: no secret exists', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const pk = rawPublicKey(publicKey);
    const a = await create({ public_key: pk });
    expect(a.public_key).toBe(pk);
    expect(a.secret).toBeUndefined();
  });

  test('defaults: empty scopes and metadata; duplicate scopes removed', async () => {
    const a = await create({ scopes: ['a:read', 'a:read', 'payments:*', 'read'] });
    expect(a.scopes).toEqual(['a:read', 'payments:*', 'read']);
    expect(a.metadata).toEqual({});
    expect((await create()).scopes).toEqual([]);
  });

  test.each([
    ['empty name', { name: '' }, 'name'],
    ['name too long', { name: 'a'.repeat(65) }, 'name'],
    ['name starting with a dash', { name: '-abc' }, 'name'],
    ['name with a space', { name: 'my agent' }, 'name'],
    ['name not a string', { name: 42 }, 'name'],
    ['missing name', {}, 'name'],
    ['uppercase scope', { name: 'ok-1', scopes: ['Payments:read'] }, 'scopes.0'],
    ['scope with two colons', { name: 'ok-2', scopes: ['a:b:c'] }, 'scopes.0'],
    ['wildcard resource', { name: 'ok-3', scopes: ['*:read'] }, 'scopes.0'],
    ['empty scope', { name: 'ok-4', scopes: [''] }, 'scopes.0'],
    ['too many scopes', { name: 'ok-5', scopes: Array.from({ length: 101 }, (_, i) => `r${i}:read`) }, 'scopes'],
    ['scopes not an array', { name: 'ok-6', scopes: 'a:read' }, 'scopes'],
    ['metadata value not a string', { name: 'ok-7', metadata: { v: 1 } }, 'metadata.v'],
    ['metadata too many keys', { name: 'ok-8', metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
    ['metadata key too long', { name: 'ok-9', metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata'],
    ['metadata value too long', { name: 'ok-10', metadata: { k: 'v'.repeat(1025) } }, 'metadata'],
    ['metadata not an object', { name: 'ok-11', metadata: ['x'] }, 'metadata'],
    ['unknown field', { name: 'ok-12', colour: 'blue' }, 'colour'],
    ['invalid public key', { name: 'ok-13', public_key: 'not-a-key' }, 'public_key'],
    ['public key of wrong length', { name: 'ok-14', public_key: Buffer.alloc(31).toString('base64url') }, 'public_key'],
    // node:crypto would import these 32 bytes; no signature could ever verify against them.
    ['public key that is no curve point', { name: 'ok-15', public_key: Buffer.from('0200000000000000000000000000000000000000000000000000000000000000', 'hex').toString('base64url') }, 'public_key'],
    // The identity point: anyone could forge this agent's signatures.
    ['small-order public key', { name: 'ok-16', public_key: Buffer.from('0100000000000000000000000000000000000000000000000000000000000000', 'hex').toString('base64url') }, 'public_key'],
  ])('400 for %s, and nothing is created', async (_label, body, path) => {
    const before = (await api.get('/v1/agents?limit=200')).body.data.length;
    const res = await api.post('/v1/agents', body);
    expectError(res, 400, 'validation_error');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect((await api.get('/v1/agents?limit=200')).body.data.length).toBe(before);
  });

  test('accepts the boundary values', async () => {
    const a = await create({
      name: `A${'b'.repeat(63)}`.slice(0, 64),
      scopes: Array.from({ length: 100 }, (_, i) => `r${i}.x_y-z:act.ion_${i}`),
      metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${'k'.repeat(60)}${i}`, 'v'.repeat(1024)])),
    });
    expect(a.scopes).toHaveLength(100);
  });

  test('names are unique among non-revoked agents, reusable after revoke', async () => {
    const name = uniq('dup');
    const first = (await api.post('/v1/agents', { name })).body;
    expectError(await api.post('/v1/agents', { name }), 409, 'conflict');
    await api.post(`/v1/agents/${first.id}/revoke`);
    expect((await api.post('/v1/agents', { name })).status).toBe(201);
  });

  test('malformed JSON is a 400, a non-JSON body a 415, an oversized body a 413', async () => {
    const bad = await request(s.url).post('/v1/agents').set('Authorization', `Bearer ${s.apiKey}`).set('Content-Type', 'application/json').send('{"name": ');
    expectError(bad, 400, 'validation_error');
    const text = await request(s.url).post('/v1/agents').set('Authorization', `Bearer ${s.apiKey}`).set('Content-Type', 'text/plain').send('name=x');
    expectError(text, 415, 'unsupported_media_type');
    const big = await api.post('/v1/agents', { name: 'big', metadata: { k: 'x'.repeat(70_000) } });
    expectError(big, 413, 'payload_too_large');
    const notObject = await request(s.url).post('/v1/agents').set('Authorization', `Bearer ${s.apiKey}`).set('Content-Type', 'application/json').send('[1,2]');
    expectError(notObject, 400, 'validation_error');
  });
});

describe('idempotent create', () => {
  test('a retry with the same key and body returns the original agent and creates nothing new', async () => {
    const key = `idem-${uniq()}`;
    const body = { name: uniq('idem'), scopes: ['x:read'] };
    const first = await api.post('/v1/agents', body).set('Idempotency-Key', key);
    expect(first.status).toBe(201);
    expect(first.body.secret).toBeDefined();
    const retry = await api.post('/v1/agents', body).set('Idempotency-Key', key);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.body.secret).toBeUndefined(); // secrets are never stored, so never replayed
    const list = await api.get(`/v1/agents?name=${body.name}`);
    expect(list.body.data).toHaveLength(1);
  });

  test('a key is remembered for CERTUSORDO_IDEMPOTENCY_TTL: afterwards it is a new key, and the purge deletes only expired records', async () => {
    const ttlMs = s.config.idempotencyTtlSeconds * 1000;
    expect(ttlMs).toBe(24 * 3600 * 1000); // the documented default
    const knex = s.running.db.knex;
    const age = (key: string) => knex('idempotency_keys').where({ key }).update({ created_at: new Date(Date.now() - ttlMs - 60_000) });
    const key = `idem-${uniq()}`;
    const first = await api.post('/v1/agents', { name: uniq('ttl-a') }).set('Idempotency-Key', key);
    expect(first.status).toBe(201);
    await age(key); // as if a day had passed
    // Another body is no longer a conflict, and the same key is not a replay: it starts afresh.
    const bodyB = { name: uniq('ttl-b') };
    const second = await api.post('/v1/agents', bodyB).set('Idempotency-Key', key);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body.secret).toBeDefined();
    // …and is remembered again from then on.
    const retry = await api.post('/v1/agents', bodyB).set('Idempotency-Key', key);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.id).toBe(second.body.id);

    const stale = `idem-${uniq()}`;
    expect((await api.post('/v1/agents', { name: uniq('ttl-c') }).set('Idempotency-Key', stale)).status).toBe(201);
    await age(stale);
    expect(await purgeExpiredIdempotencyKeys(knex, ttlMs)).toBeGreaterThanOrEqual(1);
    expect(await knex('idempotency_keys').where({ key: stale })).toHaveLength(0);
    expect(await knex('idempotency_keys').where({ key })).toHaveLength(1);
  });

  test('same key with another body is a 409', async () => {
    const key = `idem-${uniq()}`;
    await api.post('/v1/agents', { name: uniq('a') }).set('Idempotency-Key', key);
    expectError(await api.post('/v1/agents', { name: uniq('b') }).set('Idempotency-Key', key), 409, 'conflict');
  });

  test('concurrent retries create exactly one agent', async () => {
    const key = `idem-${uniq()}`;
    const body = { name: uniq('race') };
    const results = await Promise.all(Array.from({ length: 8 }, () => api.post('/v1/agents', body).set('Idempotency-Key', key)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect((await api.get(`/v1/agents?name=${body.name}`)).body.data).toHaveLength(1);
  });

  test('a failed create does not burn the key', async () => {
    const key = `idem-${uniq()}`;
    expect((await api.post('/v1/agents', { name: '' }).set('Idempotency-Key', key)).status).toBe(400);
    expect((await api.post('/v1/agents', { name: uniq() }).set('Idempotency-Key', key)).status).toBe(201);
  });

  test('a create refused by the database (name taken) writes nothing and does not burn the key', async () => {
    const knex = s.running.db.knex;
    const count = async (table: string) => Number((await knex(table).count<{ c: string }[]>('* as c'))[0]!.c);
    const counts = async () => ({ agents: await count('agents'), keys: await count('agent_keys'), events: await count('audit_events'), idem: await count('idempotency_keys') });
    const name = uniq('taken');
    const holder = await create({ name });
    const before = await counts();
    const key = `idem-${uniq()}`;
    expectError(await api.post('/v1/agents', { name }).set('Idempotency-Key', key), 409, 'conflict');
    expect(await counts()).toEqual(before);
    await api.post(`/v1/agents/${holder.id}/revoke`);
    expect((await api.post('/v1/agents', { name }).set('Idempotency-Key', key)).status).toBe(201);
  });

  test('an invalid Idempotency-Key header is a 400', async () => {
    expectError(await api.post('/v1/agents', { name: uniq() }).set('Idempotency-Key', 'x'.repeat(256)), 400, 'validation_error');
  });
});

describe('get', () => {
  test('404 not_found for an unknown id and for a malformed one', async () => {
    expectError(await api.get('/v1/agents/0190a000-0000-7000-8000-000000000000'), 404, 'not_found');
    expectError(await api.get('/v1/agents/non-existent-id'), 404, 'not_found');
    expectError(await api.get(`/v1/agents/${encodeURIComponent("1' or '1'='1")}`), 404, 'not_found');
  });
});

describe('update', () => {
  test('changes name, scopes and metadata; metadata replaces the map', async () => {
    const a = await create({ scopes: ['a:read'], metadata: { team: 'x', env: 'dev' } });
    const res = await api.patch(`/v1/agents/${a.id}`, { name: `${a.name}-v2`, scopes: ['a:read', 'a:write', 'a:write'], metadata: { team: 'y' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: `${a.name}-v2`, scopes: ['a:read', 'a:write'], metadata: { team: 'y' } });
    expect(new Date(res.body.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(a.updated_at).getTime());
    expect(res.body.public_key).toBe(a.public_key);
  });

  test('validates, refuses unknown fields and status changes, and changes nothing on error', async () => {
    const a = await create({ scopes: ['a:read'] });
    expectError(await api.patch(`/v1/agents/${a.id}`, { scopes: ['BAD'] }), 400, 'validation_error');
    expectError(await api.patch(`/v1/agents/${a.id}`, { scopes: [`a:${'b'.repeat(199)}`] }), 400, 'validation_error'); // a scope is a name: at most 200 characters
    expectError(await api.patch(`/v1/agents/${a.id}`, { status: 'revoked' }), 400, 'validation_error');
    expectError(await api.patch(`/v1/agents/${a.id}`, { name: '' }), 400, 'validation_error');
    expect((await api.get(`/v1/agents/${a.id}`)).body).toMatchObject({ name: a.name, scopes: ['a:read'], status: 'active' });
  });

  test('409 when renaming onto a live name; 409 on a revoked agent; 404 unknown', async () => {
    const a = await create();
    const b = await create();
    expectError(await api.patch(`/v1/agents/${b.id}`, { name: a.name }), 409, 'conflict');
    await api.post(`/v1/agents/${b.id}/revoke`);
    expectError(await api.patch(`/v1/agents/${b.id}`, { scopes: [] }), 409, 'conflict');
    expectError(await api.patch('/v1/agents/nope', { scopes: [] }), 404, 'not_found');
  });
});

describe('lifecycle', () => {
  const go = (id: string, action: string, body?: object) => api.post(`/v1/agents/${id}/${action}`, body ?? {});

  test('active → suspended → active → revoked, with reasons', async () => {
    const a = await create();
    const s1 = await go(a.id, 'suspend', { reason: 'investigating' });
    expect(s1.status).toBe(200);
    expect(s1.body.status).toBe('suspended');
    expect((await go(a.id, 'suspend')).body.status).toBe('suspended'); // no-op
    expect((await go(a.id, 'activate')).body.status).toBe('active');
    expect((await go(a.id, 'activate')).body.status).toBe('active'); // no-op
    const r = await go(a.id, 'revoke', { reason: 'decommissioned' });
    expect(r.body.status).toBe('revoked');
  });

  test('suspended → revoked; revoke again is 200 unchanged; suspend/activate of revoked is 409 invalid_transition', async () => {
    const a = await create();
    await go(a.id, 'suspend');
    const revoked = await go(a.id, 'revoke');
    expect(revoked.body.status).toBe('revoked');
    const again = await go(a.id, 'revoke');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(revoked.body);
    expectError(await go(a.id, 'activate'), 409, 'invalid_transition');
    expectError(await go(a.id, 'suspend'), 409, 'invalid_transition');
    expect((await api.get(`/v1/agents/${a.id}`)).body.status).toBe('revoked');
  });

  test('reason is validated; unknown agent 404', async () => {
    const a = await create();
    expectError(await go(a.id, 'suspend', { reason: 'x'.repeat(501) }), 400, 'validation_error');
    expectError(await go(a.id, 'suspend', { why: 'x' }), 400, 'validation_error');
    expect((await api.get(`/v1/agents/${a.id}`)).body.status).toBe('active');
    expectError(await go('non-existent-id', 'suspend'), 404, 'not_found');
  });

  test('concurrent transitions never leave a revoked agent anything but revoked', async () => {
    for (let round = 0; round < 3; round++) {
      const a = await create();
      const actions = ['suspend', 'activate', 'revoke', 'activate', 'suspend', 'activate', 'suspend', 'activate'];
      const results = await Promise.all(actions.map((act) => go(a.id, act)));
      for (const r of results) expect([200, 409]).toContain(r.status);
      expect((await api.get(`/v1/agents/${a.id}`)).body.status).toBe('revoked');
    }
  });
});

describe('list', () => {
  let prefix: string;
  let ids: string[];
  beforeAll(async () => {
    prefix = `ls${Date.now().toString(36)}-`;
    ids = [];
    for (let i = 0; i < 25; i++) ids.push((await api.post('/v1/agents', { name: `${prefix}${String(i).padStart(2, '0')}` })).body.id);
    await api.post(`/v1/agents/${ids[3]}/suspend`);
    await api.post(`/v1/agents/${ids[4]}/revoke`);
  });

  test('pages in creation order, with a stable opaque cursor, across every page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/v1/agents?name_prefix=${prefix}&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await api.get(q);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(7);
      seen.push(...res.body.data.map((a: { id: string }) => a.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(pages).toBe(4);
  });

  test('concurrent inserts while paging: no duplicates, no pre-existing agent skipped', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let k = 0;
    do {
      const res: request.Response = await api.get(`/v1/agents?name_prefix=${prefix}&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.data.map((a: { id: string }) => a.id));
      cursor = res.body.next_cursor;
      await Promise.all([api.post('/v1/agents', { name: `${prefix}late-${k++}` }), api.post('/v1/agents', { name: `${prefix}late-${k++}` })]);
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
    // Rows inserted during the walk have later ids, so they appear at the end.
    expect(seen.slice(0, ids.length)).toEqual(ids);
  });

  test('filters: status, exact name, prefix, never_authenticated, inactive_since', async () => {
    const byStatus = (await api.get(`/v1/agents?name_prefix=${prefix}&status=suspended`)).body.data;
    expect(byStatus.map((a: { id: string }) => a.id)).toEqual([ids[3]]);
    expect((await api.get(`/v1/agents?name_prefix=${prefix}&status=revoked`)).body.data.map((a: { id: string }) => a.id)).toEqual([ids[4]]);
    expect((await api.get(`/v1/agents?name=${prefix}07`)).body.data.map((a: { id: string }) => a.id)).toEqual([ids[7]]);
    expect((await api.get(`/v1/agents?name=${prefix}0`)).body.data).toEqual([]);
    expect((await api.get(`/v1/agents?name_prefix=${prefix}1&limit=200`)).body.data).toHaveLength(10);
    expect((await api.get(`/v1/agents?name_prefix=${prefix}&never_authenticated=true&limit=200`)).body.data.length).toBeGreaterThanOrEqual(25);
    const future = new Date(Date.now() + 86400_000).toISOString();
    expect((await api.get(`/v1/agents?name_prefix=${prefix}&inactive_since=${encodeURIComponent(future)}&limit=200`)).body.data.length).toBeGreaterThanOrEqual(25);
  });

  test('a LIKE wildcard in name_prefix is matched literally', async () => {
    expect((await api.get('/v1/agents?name_prefix=%25')).body.data).toEqual([]);
    expect((await api.get('/v1/agents?name_prefix=_')).body.data).toEqual([]);
  });

  test('id filter: only the named agents (revoked included), AND-ed with other filters, paged by limit', async () => {
    const want = [ids[1], ids[3], ids[4], ids[9]];
    const q = want.map((i) => `id=${i}`).join('&');
    const res = await api.get(`/v1/agents?${q}&limit=200`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((a: { id: string }) => a.id)).toEqual(want); // id order
    expect(res.body.data.map((a: { status: string }) => a.status)).toEqual(['active', 'suspended', 'revoked', 'active']);
    expect((await api.get(`/v1/agents?id=${ids[2]}`)).body.data.map((a: { id: string }) => a.id)).toEqual([ids[2]]);
    expect((await api.get(`/v1/agents?${q}&status=active&limit=200`)).body.data.map((a: { id: string }) => a.id)).toEqual([ids[1], ids[9]]);
    // Duplicates and upper case collapse to one agent each.
    expect((await api.get(`/v1/agents?id=${ids[1]}&id=${ids[1]!.toUpperCase()}`)).body.data).toHaveLength(1);
    const page1 = (await api.get(`/v1/agents?${q}&limit=3`)).body;
    expect(page1.data).toHaveLength(3);
    const page2 = (await api.get(`/v1/agents?${q}&limit=3&cursor=${page1.next_cursor}`)).body;
    expect(page2).toEqual({ data: [expect.objectContaining({ id: ids[9] })], next_cursor: null });
    // A reader key may use it like the rest of the list.
    const reader = client(s.url, await s.createApiKey('reader'));
    expect((await reader.get(`/v1/agents?${q}&limit=200`)).body.data).toHaveLength(4);
  });

  test('id filter: unknown, malformed and other organizations\' ids match nothing', async () => {
    const other = await s.createOrganization();
    const theirs = (await client(s.url, other.apiKey).post('/v1/agents', { name: uniq('theirs') })).body.id as string;
    const unknown = '00000000-0000-7000-8000-000000000000';
    const res = await api.get(`/v1/agents?id=${ids[0]}&id=${theirs}&id=${unknown}&id=not-a-uuid&limit=200`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((a: { id: string }) => a.id)).toEqual([ids[0]]);
    expect((await api.get(`/v1/agents?id=${theirs}`)).body).toEqual({ data: [], next_cursor: null });
    expect((await api.get('/v1/agents?id=not-a-uuid&id=')).body).toEqual({ data: [], next_cursor: null });
    // The owner sees it through the same filter.
    expect((await client(s.url, other.apiKey).get(`/v1/agents?id=${theirs}`)).body.data.map((a: { id: string }) => a.id)).toEqual([theirs]);
  });

  test('id filter: more than 200 ids is a 400 naming the limit', async () => {
    const many = Array.from({ length: 201 }, (_, i) => `id=00000000-0000-7000-8000-${String(i).padStart(12, '0')}`).join('&');
    const res = await api.get(`/v1/agents?${many}`);
    expectError(res, 400, 'validation_error');
    expect(JSON.stringify(res.body.error.details)).toMatch(/at most 200 ids/);
    const ok = Array.from({ length: 200 }, (_, i) => `id=00000000-0000-7000-8000-${String(i).padStart(12, '0')}`).join('&');
    expect((await api.get(`/v1/agents?${ok}`)).status).toBe(200);
  });

  test('bad queries are 400s', async () => {
    for (const q of ['limit=0', 'limit=201', 'limit=abc', 'status=deleted', 'cursor=garbage', 'never_authenticated=yes', 'inactive_since=yesterday', 'colour=blue']) {
      expectError(await api.get(`/v1/agents?${q}`), 400, 'validation_error');
    }
  });
});

describe('keys', () => {
  test('adding a key is idempotent with Idempotency-Key; the replay carries no secret', async () => {
    const a = await create();
    const key = `k-${uniq()}`;
    const first = await api.post(`/v1/agents/${a.id}/keys`, {}).set('Idempotency-Key', key);
    expect(first.status).toBe(201);
    expect(first.body.secret).toMatch(/^cos_/);
    const retry = await api.post(`/v1/agents/${a.id}/keys`, {}).set('Idempotency-Key', key);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const { secret: _secret, ...withoutSecret } = first.body;
    expect(retry.body).toEqual(withoutSecret);
    expect((await api.get(`/v1/agents/${a.id}/keys`)).body.data).toHaveLength(2);
    expectError(await api.post(`/v1/agents/${a.id}/keys`, { public_key: a.public_key }).set('Idempotency-Key', key), 409, 'conflict');
  });

  test('newest active key is the agent\'s public_key; the last active key cannot be removed', async () => {
    const a = await create();
    const added = (await api.post(`/v1/agents/${a.id}/keys`, {})).body;
    expect((await api.get(`/v1/agents/${a.id}`)).body.public_key).toBe(added.public_key);
    const keys = (await api.get(`/v1/agents/${a.id}/keys`)).body.data;
    const original = keys.find((k: { public_key: string }) => k.public_key === a.public_key);
    expect((await api.delete(`/v1/agents/${a.id}/keys/${added.kid}`)).body.status).toBe('revoked');
    expect((await api.get(`/v1/agents/${a.id}`)).body.public_key).toBe(a.public_key);
    expectError(await api.delete(`/v1/agents/${a.id}/keys/${original.kid}`), 409, 'conflict');
    expectError(await api.delete(`/v1/agents/${a.id}/keys/nope`), 404, 'not_found');
    expectError(await api.post(`/v1/agents/${a.id}/keys`, { public_key: a.public_key }), 409, 'conflict');
  });
});
