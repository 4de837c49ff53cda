/**
 * A database writer without the master key cannot publish a signing key of its own: a key is
 * used (JWKS, introspection, agent calls) only when its public key is the one its sealed private
 * key derives.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { generateEd25519, jwkThumbprint, privateKeyObject, seedMatchesPublicKey } from '../../api/src/crypto/ed25519';
import { MAX_PUBLISHED_KEYS } from '../../api/src/services/signing-keys';
import { signEd25519 } from '../../api/src/crypto/jws';
import { admin, createAgent, decodeHeader, getToken, introspect, nextInvalidation } from './helpers';

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => s?.close());

const issuer = (orgId: string) => `${s.config.publicUrl ?? s.url}/orgs/${orgId}`;

test('a signing key row written straight into the database (no master key) neither verifies tokens nor is published', async () => {
  const agent = await createAgent(s);
  const genuine = await getToken(s, agent);
  const genuineKid = decodeHeader(genuine).kid as string;

  // The database writer's own key, inserted as a retired (still published) key of the organization.
  const forged = generateEd25519();
  const kid = jwkThumbprint(forged.publicKey);
  const now = new Date();
  // PostgreSQL announces the row (NOTIFY) and the server reloads the organization: wait for that
  // reload to start first, so it cannot overtake the read below.
  const announced = s.running.invalidations.crossProcess
    ? nextInvalidation(s, 'the server hears of the inserted row', (e) => e.kind === 'signing_keys' && e.orgId === s.organizationId)
    : undefined;
  await s.running.db.knex('signing_keys').insert({
    kid, organization_id: s.organizationId, public_key: forged.publicKey, private_key_enc: randomBytes(60),
    created_at: new Date(now.getTime() - 60_000), rotated_at: now, expires_at: new Date(now.getTime() + 3_600_000),
  });
  await announced;
  // Listing reads the organization's keys from the database now (PGlite has no NOTIFY): from here
  // on the server has seen the forged row, and every check below is the integrity check's doing.
  const listed = (await admin(s).get('/v1/signing-keys').expect(200)).body.data.map((k: { kid: string }) => k.kid);
  expect(listed).toContain(genuineKid);
  expect(listed).not.toContain(kid);

  const iat = Math.floor(Date.now() / 1000);
  const token = await signEd25519({ alg: 'EdDSA', typ: 'at+jwt', kid }, {
    iss: issuer(s.organizationId), sub: agent.id, aud: issuer(s.organizationId), client_id: agent.id, scope: agent.scopes.join(' '),
    jti: randomUUID(), iat, iat_ms: Date.now(), exp: iat + 300, org_id: s.organizationId,
  }, privateKeyObject(forged.seed));

  expect((await introspect(s.url, s.apiKey, token)).active).toBe(false);
  const asAgent = await request(s.url).get('/v1/sessions').set('Authorization', `Bearer ${token}`);
  expect(asAgent.status).toBe(401);

  const jwks = await request(s.url).get(`/orgs/${s.organizationId}/.well-known/jwks.json`).expect(200);
  const kids = (jwks.body as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  expect(kids).toContain(genuineKid);
  expect(kids).not.toContain(kid);

  // The genuine keys are untouched.
  expect((await introspect(s.url, s.apiKey, genuine)).active).toBe(true);
  expect((await introspect(s.url, s.apiKey, await getToken(s, agent))).active).toBe(true);
});

test("a current key whose public key was replaced is refused, not published", async () => {
  const org = await s.createOrganization('admin');
  const agent = await createAgent(s, {}, org.apiKey);
  const before = await getToken(s, agent);
  const kid = decodeHeader(before).kid as string;
  const forged = generateEd25519();
  await s.running.db.knex('signing_keys').where({ kid }).update({ public_key: forged.publicKey });
  await request(s.url).post('/v1/signing-keys/rotate').set('Authorization', `Bearer ${org.apiKey}`).send({}).expect(200);
  // The rotation retired the altered row: it must not come back as a published key.
  const jwks = await request(s.url).get(`/orgs/${org.organizationId}/.well-known/jwks.json`).expect(200);
  const xs = (jwks.body as { keys: { x: string; kid: string }[] }).keys;
  expect(xs.map((k) => k.kid)).not.toContain(kid);
  expect(xs.map((k) => k.x)).not.toContain(forged.publicKey.toString('base64url'));
  expect((await introspect(s.url, org.apiKey, await getToken(s, agent))).active).toBe(true);
});

test('seedMatchesPublicKey derives the public key from the seed (the x given to the import is not trusted)', () => {
  const a = generateEd25519();
  const b = generateEd25519();
  expect(seedMatchesPublicKey(a.seed, a.publicKey)).toBe(true);
  expect(seedMatchesPublicKey(a.seed, b.publicKey)).toBe(false);
  expect(seedMatchesPublicKey(Buffer.alloc(5), a.publicKey)).toBe(false);
});

test("an organization's admin cannot grow its published signing keys without bound by rotating", async () => {
  const org = await s.createOrganization('admin');
  const rotate = () => request(s.url).post('/v1/signing-keys/rotate').set('Authorization', `Bearer ${org.apiKey}`).send({});
  for (let i = 0; i < MAX_PUBLISHED_KEYS; i++) expect((await rotate()).status).toBe(200);
  const refused = await rotate();
  expect(refused.status).toBe(429);
  expect(refused.body.error.code).toBe('rate_limited');
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3600);
  const jwks = await request(s.url).get(`/orgs/${org.organizationId}/.well-known/jwks.json`).expect(200);
  expect(jwks.body.keys).toHaveLength(MAX_PUBLISHED_KEYS);
  // Tokens are still issued and valid with the current key.
  const agent = await createAgent(s, {}, org.apiKey);
  expect((await introspect(s.url, org.apiKey, await getToken(s, agent))).active).toBe(true);
});
