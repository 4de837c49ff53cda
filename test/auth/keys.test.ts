/** Agent key rotation without downtime, the revoke-and-recreate recipe, and per-organization signing-key rotation. */
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { testBackend } from '../support/databases';
import { generateEd25519, jwkThumbprint } from '../../api/src/crypto/ed25519';
import { loadMasterKey } from '../../api/src/crypto/master-key';
import { parseNotification } from '../../api/src/tokens/invalidation';
import { rotateSigningKey, SigningKeyService } from '../../api/src/services/signing-keys';
import { admin, ASSERTION_TYPE, assertion, createAgent, decodeHeader, getToken, introspect, nextInvalidation, requestToken, seedFromSecret, TestAgent, tokenRequest } from './helpers';

let s: TestServer;
const masterKey = Buffer.alloc(32, 3).toString('base64url');
beforeAll(async () => { s = await startTestServer({ masterKey }); });
afterAll(async () => s?.close());

describe('agent keys', () => {
  test('old and new keys both authenticate until the old is removed; public_key is the newest active key', async () => {
    const a = await createAgent(s);
    const oldKid = (await admin(s).get(`/v1/agents/${a.id}/keys`)).body.data[0].kid;

    // a generated second key
    const added = await admin(s).post(`/v1/agents/${a.id}/keys`);
    expect(added.status).toBe(201);
    const next: TestAgent = { ...a, seed: seedFromSecret(added.body.secret), publicKey: added.body.public_key };
    // and a brought third key
    const own = generateEd25519();
    const brought = await admin(s).post(`/v1/agents/${a.id}/keys`, { public_key: own.publicKey.toString('base64url') });
    expect(brought.body.kid).toBe(jwkThumbprint(own.publicKey));
    const third: TestAgent = { ...a, seed: own.seed, publicKey: own.publicKey.toString('base64url') };
    expect((await admin(s).get(`/v1/agents/${a.id}`)).body.public_key).toBe(third.publicKey);

    for (const k of [a, next, third]) {
      expect((await requestToken(s, k)).status).toBe(200); // without kid: every active key is tried
      expect((await requestToken(s, k, {}, { kid: jwkThumbprint(Buffer.from(k.publicKey, 'base64url')) })).status).toBe(200);
    }
    const tokenFromOldKey = await getToken(s, a);

    await admin(s).del(`/v1/agents/${a.id}/keys/${oldKid}`).expect(200);
    const refused = await requestToken(s, a);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect((await requestToken(s, a, {}, { kid: oldKid })).status).toBe(401);
    expect((await requestToken(s, next)).status).toBe(200);
    expect((await requestToken(s, third)).status).toBe(200);
    // Tokens already issued are not affected by removing a key (they are bound to the agent, not the key).
    expect((await introspect(s.url, s.apiKey, tokenFromOldKey)).active).toBe(true);

    await admin(s).del(`/v1/agents/${a.id}/keys/${brought.body.kid}`).expect(200);
    expect((await admin(s).get(`/v1/agents/${a.id}`)).body.public_key).toBe(next.publicKey);
    expect((await requestToken(s, third)).status).toBe(401);
    expect((await admin(s).del(`/v1/agents/${a.id}/keys/${added.body.kid}`)).status).toBe(409); // last active key
  });

  test('the documented recipe: revoke the compromised agent, create <name>-rotated with the same scopes', async () => {
    const a = await createAgent(s, { name: 'payment-processor', scopes: ['payments:read', 'payments:write'] });
    const stolen = await getToken(s, a);
    const got = (await admin(s).get(`/v1/agents/${a.id}`)).body;
    await admin(s).post(`/v1/agents/${a.id}/revoke`, { reason: 'key compromised' }).expect(200);
    const rotated = await createAgent(s, { name: `${got.name}-rotated`, scopes: got.scopes });
    expect(rotated.scopes).toEqual(['payments:read', 'payments:write']);
    expect(await introspect(s.url, s.apiKey, stolen)).toEqual({ active: false });
    expect((await requestToken(s, a)).status).toBe(400);
    const fresh = await getToken(s, rotated);
    expect(await introspect(s.url, s.apiKey, fresh)).toMatchObject({ active: true, sub: rotated.id, scope: 'payments:read payments:write' });
    // The name of a revoked agent may be reused.
    const reused = await createAgent(s, { name: 'payment-processor', scopes: got.scopes });
    expect((await requestToken(s, reused)).status).toBe(200);
  });
});

/** The organization's issuer and JWKS, as a relying service reads them. */
const issuer = (orgId: string) => `${s.url}/orgs/${orgId}`;
const jwksOf = async (orgId: string) => (await request(s.url).get(`/orgs/${orgId}/.well-known/jwks.json`)).body as { keys: Array<{ kid: string }> };
const kids = (j: { keys: Array<{ kid: string }> }) => j.keys.map((k) => k.kid);
/** A second SigningKeyService over the server's database (what another replica runs). */
const keyService = (rotationSeconds = 86_400) =>
  new SigningKeyService(s.running.db.knex, s.running.services.audit, loadMasterKey(masterKey, s.store.dataDir).signingKeyEncryption, rotationSeconds);

describe('signing keys (per organization)', () => {
  test('on-demand rotation: new tokens use the new key, old tokens stay valid while the old key is published', async () => {
    const a = await createAgent(s);
    const before = await getToken(s, a);
    const oldKid = decodeHeader(before).kid;
    const reader = await s.createApiKey('reader');
    expect((await admin(s, reader).post('/v1/signing-keys/rotate')).status).toBe(403);
    const rotated = await admin(s).post('/v1/signing-keys/rotate', { reason: 'drill' });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ kid: expect.any(String), previous_kid: oldKid, created_at: expect.any(String) });

    const after = await getToken(s, a);
    expect(decodeHeader(after).kid).toBe(rotated.body.kid);
    const jwks = await jwksOf(s.organizationId);
    expect(kids(jwks)).toEqual([rotated.body.kid, oldKid]);
    for (const t of [before, after]) {
      await jwtVerify(t, createLocalJWKSet(jwks as never), { issuer: issuer(s.organizationId), typ: 'at+jwt' });
      expect((await introspect(s.url, s.apiKey, t)).active).toBe(true);
    }
    const list = (await admin(s, reader).get('/v1/signing-keys')).body.data;
    expect(list[0]).toMatchObject({ kid: rotated.body.kid, status: 'current', rotated_at: null, expires_at: null });
    expect(list[1]).toMatchObject({ kid: oldKid, status: 'retired' });
    // retired keys stay published past the longest token lifetime (1 h) plus a margin
    expect(new Date(list[1].expires_at).getTime() - new Date(list[1].rotated_at).getTime()).toBeGreaterThanOrEqual(3600_000);
    const audit = (await admin(s).get('/v1/audit-events?action=signing_key.rotated')).body.data;
    expect(audit[audit.length - 1]).toMatchObject({ target_id: rotated.body.kid, reason: 'drill', data: { previous_kid: oldKid } });
  });

  test('organization B\'s admin rotates only B\'s keys: A\'s current kid, list and JWKS are unchanged; audited only in B\'s chain', async () => {
    const a = await createAgent(s);
    const kidA = decodeHeader(await getToken(s, a)).kid;
    const other = await s.createOrganization('admin');
    const b = await createAgent(s, {}, other.apiKey);
    const kidB = decodeHeader(await getToken(s, b)).kid;
    expect(kidB).not.toBe(kidA);
    const listA = (await admin(s).get('/v1/signing-keys')).body;
    const jwksA = await jwksOf(s.organizationId);

    const r = await admin(s, other.apiKey).post('/v1/signing-keys/rotate');
    expect(r.status).toBe(200);
    expect(r.body.previous_kid).toBe(kidB);
    expect(decodeHeader(await getToken(s, a)).kid).toBe(kidA);
    expect(decodeHeader(await getToken(s, b)).kid).toBe(r.body.kid);
    expect((await admin(s).get('/v1/signing-keys')).body).toEqual(listA);
    expect(await jwksOf(s.organizationId)).toEqual(jwksA);
    const listB = (await admin(s, other.apiKey).get('/v1/signing-keys')).body.data.map((k: { kid: string }) => k.kid);
    expect(listB).toEqual([r.body.kid, kidB]);
    expect(kids(await jwksOf(other.organizationId))).toEqual([r.body.kid, kidB]);

    const mine = (await admin(s).get('/v1/audit-events?action=signing_key.rotated')).body.data.map((e: { target_id: string }) => e.target_id);
    const theirs = (await admin(s, other.apiKey).get('/v1/audit-events?action=signing_key.rotated')).body.data.map((e: { target_id: string }) => e.target_id);
    expect(theirs).toEqual([r.body.kid]);
    expect(mine).not.toContain(r.body.kid);
    expect((await request(s.url).get('/v1/signing-keys')).status).toBe(401);
  });

  test('GET /v1/signing-keys answers from the cached keys (no read per call); a rotation, here or announced, shows at once', async () => {
    const org = await s.createOrganization('reader');
    const list = async () => (await admin(s, org.apiKey).get('/v1/signing-keys')).body.data.map((k: { kid: string; status: string }) => [k.kid, k.status]);
    const first = await list();
    expect(first).toEqual([[expect.any(String), 'current']]);
    await list(); // the first key's own announcement (PostgreSQL) may reload the entry once
    const keyReads: string[] = [];
    const onQuery = (q: { sql: string }) => void (/signing_keys/.test(q.sql) && keyReads.push(q.sql));
    s.running.db.knex.on('query', onQuery);
    try {
      for (let i = 0; i < 5; i++) expect(await list()).toEqual(first);
    } finally {
      s.running.db.knex.off('query', onQuery);
    }
    expect(keyReads).toEqual([]);
    // Rotated by another process (the CLI, another replica): the announcement reloads the entry.
    const heard = s.running.db.backend === 'postgres' ? nextInvalidation(s, 'the rotation is announced', (e) => e.kind === 'signing_keys' && e.orgId === org.organizationId) : null;
    const rotated = await rotateSigningKey(s.running.db.knex, loadMasterKey(masterKey, s.store.dataDir), org.organizationId, 'drill');
    if (heard) await heard;
    else s.running.invalidations.publishLocal({ kind: 'signing_keys', orgId: org.organizationId });
    expect(await list()).toEqual([[rotated.kid, 'current'], [first[0][0], 'retired']]);
  });

  test('concurrent first uses of a new organization (replicas racing) end with one current key', async () => {
    const other = await s.createOrganization('admin');
    const replicas = Array.from({ length: 6 }, () => keyService());
    const jws = await Promise.all(replicas.map((k, i) => k.sign(other.organizationId, { typ: 'JWT' }, { i })));
    const used = new Set(jws.map((t) => decodeHeader(t).kid));
    expect(used.size).toBe(1);
    const rows = await s.running.db.knex('signing_keys').where({ organization_id: other.organizationId });
    expect(rows.map((r: { kid: string; rotated_at: Date | null }) => [r.kid, r.rotated_at])).toEqual([[[...used][0], null]]);
    expect(kids(await jwksOf(other.organizationId))).toEqual([...used]);
  });

  test('when the first signing key cannot be created, the token request fails and commits nothing: the same assertion works once it can', async () => {
    const org = await s.createOrganization('admin');
    const agent = await createAgent(s, {}, org.apiKey);
    const db = s.running.db.knex;
    await db.raw(`create function refuse_signing_keys() returns trigger language plpgsql as $$ begin raise exception 'no signing keys in this test'; end $$`);
    await db.raw('create trigger refuse_signing_keys before insert on signing_keys for each row execute function refuse_signing_keys()');
    const form = { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, agent) };
    try {
      expect((await tokenRequest(s, form)).status).toBe(500);
    } finally {
      await db.raw('drop trigger refuse_signing_keys on signing_keys');
      await db.raw('drop function refuse_signing_keys()');
    }
    await s.running.settleAuthAudit();
    const events = await request(s.url).get(`/v1/audit-events?agent_id=${agent.id}&action=agent.authenticated`).set('Authorization', `Bearer ${org.apiKey}`);
    expect(events.body.data).toEqual([]);
    const retried = await tokenRequest(s, form); // the assertion was never consumed
    expect(retried.status).toBe(200);
    expect(decodeHeader(retried.body.access_token).kid).toBe(kids(await jwksOf(org.organizationId))[0]);
  });

  test('the scheduled rotation rotates only organizations whose current key is older than the period', async () => {
    const due = await s.createOrganization('admin');
    const fresh = await s.createOrganization('admin');
    const never = await s.createOrganization('admin'); // no key yet: none is created by the schedule
    const [dueKid, freshKid] = [kids(await jwksOf(due.organizationId))[0], kids(await jwksOf(fresh.organizationId))[0]];
    const db = s.running.db.knex;
    await db('signing_keys').where({ kid: dueKid }).update({ created_at: new Date(Date.now() - 120_000) });
    const replica = keyService(60);
    // PostgreSQL: the server (another process's view of the store) hears of it by NOTIFY.
    const heard = testBackend() === 'postgres' ? nextInvalidation(s, 'the server hears of the scheduled rotation', (e) => e.kind === 'signing_keys' && e.orgId === due.organizationId) : null;
    const rotated = await replica.rotateDue();
    expect(rotated).toContain(due.organizationId);
    expect(rotated).not.toContain(fresh.organizationId);
    expect(await db('signing_keys').where({ organization_id: never.organizationId })).toEqual([]);
    const dueKeys = kids(await replica.jwks(due.organizationId));
    expect(dueKeys).toHaveLength(2);
    expect(dueKeys[1]).toBe(dueKid); // still published for the tokens it signed
    expect(kids(await replica.jwks(fresh.organizationId))).toEqual([freshKid]);
    // Audited in the rotated organization's chain as the system's, and the chain still verifies.
    const rotations = async (apiKey: string) => (await request(s.url).get('/v1/audit-events?action=signing_key.rotated').set('Authorization', `Bearer ${apiKey}`)).body.data;
    expect(await rotations(due.apiKey)).toEqual([expect.objectContaining({ actor_type: 'system', target_id: dueKeys[0], reason: 'scheduled', data: { previous_kid: dueKid } })]);
    expect(await rotations(fresh.apiKey)).toEqual([]);
    expect((await request(s.url).get('/v1/audit-events/verify').set('Authorization', `Bearer ${due.apiKey}`)).body).toMatchObject({ valid: true });
    if (!heard) return; // PGlite: one process, no other replica to notify
    await heard;
    // The server heard of it: its tokens and JWKS use the new key.
    const agent = await createAgent(s, {}, due.apiKey);
    expect(decodeHeader(await getToken(s, agent)).kid).toBe(dueKeys[0]);
    expect(kids(await jwksOf(due.organizationId))).toEqual(dueKeys);
  });

  // On PGlite the store is locked to the server process, so the CLI rotates only while it is stopped.
  (testBackend() === 'postgres' ? test : test.skip)('rotateSigningKey (for the CLI) rotates one organization through the database; the server picks it up (NOTIFY)', async () => {
    const a = await createAgent(s);
    const before = decodeHeader(await getToken(s, a)).kid;
    const heard = nextInvalidation(s, 'the server hears of the CLI rotation', (e) => e.kind === 'signing_keys' && e.orgId === s.organizationId);
    const r = await rotateSigningKey(s.running.db.knex, loadMasterKey(masterKey, s.store.dataDir), s.organizationId, 'cli drill');
    expect(r.previous_kid).toBe(before);
    await heard;
    expect(decodeHeader(await getToken(s, a)).kid).toBe(r.kid);
    const audit = (await admin(s).get('/v1/audit-events?action=signing_key.rotated')).body.data;
    expect(audit[audit.length - 1]).toMatchObject({ actor_type: 'system', target_id: r.kid, reason: 'cli drill' });
  });

  test('notifications name the organization', () => {
    expect(parseNotification(`signing_keys:${s.organizationId}`)).toEqual({ kind: 'signing_keys', orgId: s.organizationId });
    expect(parseNotification('signing_keys:')).toEqual({ kind: 'signing_keys', orgId: null });
  });

  test('private keys are stored encrypted (AES-256-GCM), never in clear', async () => {
    const rows = await s.running.db.knex('signing_keys').select('kid', 'public_key', 'private_key_enc');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.private_key_enc.length).toBe(12 + 32 + 16);
      expect(jwkThumbprint(row.public_key)).toBe(row.kid);
    }
  });
});

(testBackend() === 'postgres' ? describe : describe.skip)('signing keys on two replicas', () => {
  let b: TestServer;
  beforeAll(async () => {
    b = await startTestServer({ store: s.store, masterKey, env: { CERTUSORDO_PUBLIC_URL: s.url } });
  });
  afterAll(async () => b?.close());

  test('a rotation on replica A reaches replica B (NOTIFY): B signs with the new key and publishes it; other organizations untouched', async () => {
    const org = await s.createOrganization('admin');
    const agent = await createAgent(s, {}, org.apiKey);
    const bystander = await createAgent(s);
    const before = await getToken(b, agent); // B has the organization loaded
    const bystanderKid = decodeHeader(await getToken(b, bystander)).kid;
    const heard = nextInvalidation(b, 'replica B hears of the rotation', (e) => e.kind === 'signing_keys' && e.orgId === org.organizationId);
    const r = (await admin(s, org.apiKey).post('/v1/signing-keys/rotate')).body;
    expect(r.previous_kid).toBe(decodeHeader(before).kid);
    await heard;
    const fromB = await getToken(b, agent);
    expect(decodeHeader(fromB).kid).toBe(r.kid);
    expect(kids((await request(b.url).get(`/orgs/${org.organizationId}/.well-known/jwks.json`)).body)).toEqual([r.kid, decodeHeader(before).kid]);
    for (const t of [before, fromB]) expect((await introspect(b.url, org.apiKey, t)).active).toBe(true);
    expect(decodeHeader(await getToken(b, bystander)).kid).toBe(bystanderKid);
  });
});
