/** Agent key rotation without downtime, the revoke-and-recreate recipe, and control-plane signing-key rotation. */
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { testBackend } from '../support/databases';
import { generateEd25519, jwkThumbprint } from '../../api/src/crypto/ed25519';
import { loadMasterKey } from '../../api/src/crypto/master-key';
import { rotateSigningKey } from '../../api/src/services/signing-keys';
import { admin, createAgent, decodeHeader, getToken, introspect, requestToken, seedFromSecret, TestAgent } from './helpers';

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

describe('signing keys', () => {
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
    const jwks = (await request(s.url).get('/.well-known/jwks.json')).body;
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([rotated.body.kid, oldKid]);
    for (const t of [before, after]) {
      await jwtVerify(t, createLocalJWKSet(jwks), { issuer: s.url, typ: 'at+jwt' });
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

  // On PGlite the store is locked to the server process, so the CLI rotates only while it is stopped.
  (testBackend() === 'postgres' ? test : test.skip)('rotateSigningKey (for the CLI) rotates through the database; the server picks the new key up (NOTIFY)', async () => {
    const db = s.running.db.knex;
    const r = await rotateSigningKey(db, loadMasterKey(masterKey, s.store.dataDir));
    const a = await createAgent(s);
    let kid: unknown;
    for (let i = 0; i < 100 && kid !== r.kid; i++) {
      kid = decodeHeader(await getToken(s, a)).kid;
      if (kid !== r.kid) await new Promise((res) => setTimeout(res, 20));
    }
    expect(kid).toBe(r.kid);
  });

  test('signing keys are the control plane\'s, not an organization\'s: the rotation is audited only in the rotating organization', async () => {
    const other = await s.createOrganization('admin');
    const r = await admin(s, other.apiKey).post('/v1/signing-keys/rotate');
    expect(r.status).toBe(200);
    const mine = (await admin(s).get('/v1/audit-events?action=signing_key.rotated')).body.data.map((e: { target_id: string }) => e.target_id);
    const theirs = (await admin(s, other.apiKey).get('/v1/audit-events?action=signing_key.rotated')).body.data.map((e: { target_id: string }) => e.target_id);
    expect(theirs).toEqual([r.body.kid]);
    expect(mine).not.toContain(r.body.kid);
    // Every organization sees the same public key set.
    expect((await admin(s, other.apiKey).get('/v1/signing-keys')).body).toEqual((await admin(s).get('/v1/signing-keys')).body);
    expect((await request(s.url).get('/v1/signing-keys')).status).toBe(401);
  });

  test('private keys are stored encrypted (AES-256-GCM), never in clear', async () => {
    const rows = await s.running.db.knex('signing_keys').select('kid', 'public_key', 'private_key_enc');
    for (const row of rows) {
      expect(row.private_key_enc.length).toBe(12 + 32 + 16);
      expect(jwkThumbprint(row.public_key)).toBe(row.kid);
    }
  });

  test('a scheduled rotation happens when the current key is older than the period', async () => {
    const fast = await startTestServer({ env: { CERTUSORDO_SIGNING_KEY_ROTATION: '60' } });
    try {
      const db = fast.running.db.knex;
      const current = await db('signing_keys').whereNull('rotated_at').first();
      // Pretend the key is old; the maintenance tick (every 15 s at this period) rotates it.
      await db('signing_keys').where({ kid: current.kid }).update({ created_at: new Date(Date.now() - 120_000) });
      let rotated: { kid: string } | undefined;
      for (let i = 0; i < 200 && !rotated; i++) {
        rotated = await db('signing_keys').whereNull('rotated_at').whereNot({ kid: current.kid }).first();
        if (!rotated) await new Promise((res) => setTimeout(res, 100));
      }
      expect(rotated).toBeDefined();
      const jwks = (await request(fast.url).get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
      expect(jwks).toContain(current.kid);
    } finally {
      await fast.close();
    }
  });
});
