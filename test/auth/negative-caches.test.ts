/**
 * Requests that cannot be valid cost no database read: a bearer token naming an organization that
 * has no keys, an `aa_…` key whose prefix names no key, a client assertion for an agent that does
 * not exist are refused from bounded negative caches after their first lookup; an upper- or
 * mixed-case spelling of a real id is refused before any lookup (it neither reads nor takes a cache
 * entry). Whatever is created later works at once: creations are announced on the invalidation bus
 * (in process by the services; on PostgreSQL by triggers, as another replica or a direct database
 * writer would cause them). Reads are counted on the server's own knex (its `query` events); the
 * cluster rate limiter's leases (PostgreSQL) are not reads of the things looked up, and are left out.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { loadMasterKey } from '../../api/src/crypto/master-key';
import { apiKeyBinding, hashApiKey } from '../../api/src/crypto/api-keys';
import { agentKeySeal } from '../../api/src/crypto/agent-key-seal';
import type { DbAgentKeyRow } from '../../api/src/db/tables';
import { generateEd25519, jwkThumbprint } from '../../api/src/crypto/ed25519';
import { uuidv7 } from '../../api/src/crypto/ids';
import { DatabaseProbe } from '../../api/src/db/readiness';
import * as agentOps from '../../api/src/db/operations/agents';
import * as orgOps from '../../api/src/db/operations/organizations';
import type { InvalidationEvent } from '../../api/src/tokens/invalidation';
import { admin, assertion, createAgent, getToken, nextInvalidation, requestToken, TestAgent } from './helpers';

const masterKey = randomBytes(32).toString('base64url');
let s: TestServer;
beforeAll(async () => {
  // A still heartbeat clock: the link's proof never ages, so a slow moment of the machine cannot
  // make the caches bypassed (and read) in the middle of a count.
  s = await startTestServer({ masterKey, invalidationClock: () => 0 });
});
afterAll(async () => s?.close());

const postgres = () => s.running.db.backend === 'postgres';

/** The statements `work` made the server run (the rate limiter's leases aside). */
async function reads(work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const onQuery = (q: { sql: string }) => void (/rate_limit/.test(q.sql) || seen.push(q.sql));
  s.running.db.knex.on('query', onQuery);
  try {
    await work();
  } finally {
    s.running.db.knex.off('query', onQuery);
  }
  return seen;
}

/** A structurally valid access token naming `orgId`, signed by nobody in particular. */
function forgedToken(orgId: string, kid = 'forged-kid'): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: `${s.url}/orgs/${orgId}`, sub: randomUUID(), aud: `${s.url}/orgs/${orgId}`, client_id: randomUUID(), scope: 'payments:read',
    jti: randomUUID(), iat: now, iat_ms: now * 1000, exp: now + 300, org_id: orgId,
  };
  return `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid })}.${b64(claims)}.${randomBytes(64).toString('base64url')}`;
}

/** Every route a forged bearer token can reach unauthenticated, once each. */
async function presentEverywhere(token: string): Promise<void> {
  const bearer = { Authorization: `Bearer ${token}` };
  expect((await request(s.url).post('/v1/sessions').set(bearer).send({ scopes: ['payments:read'] })).status).toBe(401);
  expect((await request(s.url).get('/v1/agents').set(bearer)).status).toBe(401);
  // With an Authorization header, revocation skips the anonymous limit: the header is checked first.
  expect((await request(s.url).post('/v1/oauth/revoke').set(bearer).type('form').send({ token })).status).toBe(401);
  // Without one, the token in the body is looked up (and is a silent no-op).
  expect((await request(s.url).post('/v1/oauth/revoke').type('form').send({ token })).status).toBe(200);
}

/** Waits for `what` on PostgreSQL (a trigger's notification), or announces it in process as the service would. */
async function announced(what: string, event: InvalidationEvent, match: (e: InvalidationEvent) => boolean, write: () => Promise<unknown>): Promise<void> {
  if (postgres()) {
    const heard = nextInvalidation(s, what, match);
    await write();
    await heard;
  } else {
    await write();
    s.running.invalidations.publishLocal(event);
  }
}

describe('organizations', () => {
  test('a bearer token naming an organization with no keys costs one read, then none, on every route', async () => {
    const orgId = uuidv7();
    await presentEverywhere(forgedToken(orgId));
    expect(await reads(async () => {
      for (let i = 0; i < 5; i++) await presentEverywhere(forgedToken(orgId, `kid-${i}`));
    })).toEqual([]);
    expect(await reads(async () => (await request(s.url).get(`/orgs/${orgId}/.well-known/jwks.json`)).status)).not.toEqual([]);
    expect(await reads(async () => expect((await request(s.url).get(`/orgs/${orgId}/.well-known/jwks.json`)).status).toBe(404))).toEqual([]);
  });

  test('case variants of a real organization id read nothing and take no cache entry', async () => {
    const agent = await createAgent(s);
    const real = await getToken(s, agent);
    const openSession = async () => expect((await request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${real}`).send({ scopes: ['payments:read'] })).status).toBe(201);
    await openSession();
    await openSession();
    const upper = s.organizationId.toUpperCase();
    const mixed = s.organizationId.replace(/[a-f]/, (c) => c.toUpperCase());
    expect(await reads(async () => {
      for (const variant of [upper, mixed]) {
        await presentEverywhere(forgedToken(variant));
        expect((await request(s.url).get(`/orgs/${variant}/.well-known/jwks.json`)).status).toBe(404);
      }
    })).toEqual([]);
    // The real organization's entry is untouched: its tokens still verify without a key read.
    const keyReads = await reads(openSession);
    expect(keyReads.filter((q) => /signing_keys/.test(q))).toEqual([]);
  });

  test('an organization created after its id was refused works at once', async () => {
    const orgId = uuidv7();
    expect((await request(s.url).get(`/orgs/${orgId}/.well-known/jwks.json`)).status).toBe(404);
    expect(await reads(async () => expect((await request(s.url).get(`/orgs/${orgId}/.well-known/jwks.json`)).status).toBe(404))).toEqual([]);
    await announced('the organization is created', { kind: 'organization', id: orgId }, (e) => e.kind === 'organization' && e.id === orgId,
      () => orgOps.insertOrganization(s.running.db.knex, { id: orgId, name: `direct-${orgId.slice(-6)}`, created_at: new Date() }));
    const jwks = await request(s.url).get(`/orgs/${orgId}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys).toHaveLength(1);
  });

  test('the services announce creations before they answer (so this replica never refuses what it just created)', async () => {
    const seen: InvalidationEvent[] = [];
    const stop = s.running.invalidations.subscribe((e) => void seen.push(e));
    try {
      const org = await s.createOrganization('reader');
      const agent = await createAgent(s);
      const key = (await admin(s).post('/v1/api-keys', { name: 'announced', role: 'reader' })).body as { id: string };
      expect(seen).toEqual(expect.arrayContaining([
        { kind: 'organization', id: org.organizationId },
        { kind: 'credentials', id: agent.id },
        { kind: 'api_key', id: key.id },
      ]));
    } finally {
      stop();
    }
  });
});

describe('API keys', () => {
  const madeUpKey = () => `aa_${randomBytes(32).toString('base64url')}`;

  test('a key whose prefix names no key costs one read, then none', async () => {
    const key = madeUpKey();
    const call = async () => {
      expect((await request(s.url).get('/v1/agents').set('Authorization', `Bearer ${key}`)).status).toBe(401);
      expect((await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${key}`).type('form').send({ token: 'x' })).status).toBe(401);
    };
    await call();
    expect(await reads(async () => {
      for (let i = 0; i < 5; i++) await call();
    })).toEqual([]);
  });

  test('a key created after its prefix was refused works at once', async () => {
    const key = madeUpKey();
    expect((await request(s.url).get('/v1/agents').set('Authorization', `Bearer ${key}`)).status).toBe(401);
    expect(await reads(async () => expect((await request(s.url).get('/v1/agents').set('Authorization', `Bearer ${key}`)).status).toBe(401))).toEqual([]);
    const id = uuidv7();
    const pepper = loadMasterKey(masterKey, s.store.dataDir).apiKeyPepper;
    const grant = { organization_id: s.organizationId, role: 'reader' as const, key_hash: hashApiKey(pepper, key) };
    await announced('the API key is created', { kind: 'api_key', id }, (e) => e.kind === 'api_key' && e.id === id, () => orgOps.insertApiKey(s.running.db.knex, {
      id, name: 'direct', prefix: key.slice(0, 11), ...grant, binding: apiKeyBinding(pepper, grant),
      created_at: new Date(), last_used_at: null, revoked_at: null,
    }));
    expect((await request(s.url).get('/v1/agents').set('Authorization', `Bearer ${key}`)).status).toBe(200);
  });
});

describe('agents at the token endpoint', () => {
  /** A key row sealed as the control plane seals the ones it writes. */
  function sealedKey(k: Omit<DbAgentKeyRow, 'seal'>): DbAgentKeyRow {
    const sealKey = loadMasterKey(masterKey, s.store.dataDir).agentKeySeal;
    return { ...k, seal: agentKeySeal(sealKey, { organization_id: s.organizationId, agent_id: k.agent_id, kid: k.kid, public_key: k.public_key }) };
  }

  /** An agent that exists nowhere yet, with a key pair a client could hold. */
  function unknownAgent(): TestAgent {
    const pair = generateEd25519();
    return { id: uuidv7(), secret: '', seed: pair.seed, publicKey: pair.publicKey.toString('base64url'), scopes: ['payments:read'] };
  }

  test('an assertion for an agent that does not exist costs one read, then none; case variants share the entry', async () => {
    const ghost = unknownAgent();
    expect((await requestToken(s, ghost)).status).toBe(401);
    expect(await reads(async () => {
      for (let i = 0; i < 3; i++) expect((await requestToken(s, ghost)).status).toBe(401);
      const upper = ghost.id.toUpperCase();
      expect((await requestToken(s, ghost, {}, { iss: upper, sub: upper })).status).toBe(401);
    })).toEqual([]);
  });

  test('forged assertions naming a real agent: none re-reads its credentials when naming a cached key, one a second when naming none (PostgreSQL: credentials are cached)', async () => {
    if (!postgres()) return;
    const agent = await createAgent(s, { scopes: ['payments:read'] });
    expect((await requestToken(s, agent)).status).toBe(200); // its credentials are cached now
    const forger = generateEd25519();
    const tokens = s.running.auth.tokens;
    const forged = (kid?: string) => assertion(s, agent, { seed: forger.seed, publicKey: forger.publicKey.toString('base64url'), ...(kid ? { kid } : {}) });
    const realKid = jwkThumbprint(Buffer.from(agent.publicKey, 'base64url'));
    const now = Date.now();
    const credentialReads = async (kid: string | undefined, at: number, n: number) =>
      (await reads(async () => {
        for (let i = 0; i < n; i++) expect(await tokens.authenticateClient(await forged(kid), agent.id, at)).toMatchObject({ ok: false });
      })).filter((sql) => /from agents a where a\.id/.test(sql)).length;
    expect(await credentialReads(realKid, now, 5)).toBe(0);
    expect(await credentialReads(undefined, now, 5)).toBe(1);
    expect(await credentialReads(randomUUID(), now + 999, 5)).toBe(0);
    expect(await credentialReads(undefined, now + 1000, 5)).toBe(1);
    expect((await requestToken(s, agent)).status).toBe(200); // the agent itself is unaffected
  });

  test('an agent created after its id was refused gets a token at once', async () => {
    const ghost = unknownAgent();
    expect((await requestToken(s, ghost)).status).toBe(401);
    const now = new Date();
    await announced('the agent is created', { kind: 'credentials', id: ghost.id }, (e) => e.kind === 'credentials' && e.id === ghost.id, () =>
      agentOps.insertAgentWithKey(s.running.db.knex, {
        id: ghost.id, organization_id: s.organizationId, name: `direct-${ghost.id.slice(-6)}`, scopes: ['payments:read'], status: 'active',
        metadata: {}, created_at: now, updated_at: now, last_auth_at: null, status_changed_at: now,
      }, sealedKey({ agent_id: ghost.id, kid: jwkThumbprint(Buffer.from(ghost.publicKey, 'base64url')), public_key: Buffer.from(ghost.publicKey, 'base64url'), created_at: now, revoked_at: null })));
    expect((await requestToken(s, ghost)).status).toBe(200);
  });
});

describe('/readyz', () => {
  test('answers from one database query per interval, however often it is asked', async () => {
    let now = 0;
    const probe = new DatabaseProbe(s.running.db.knex, 1000, () => now);
    const asked = await reads(async () => {
      expect(await Promise.all(Array.from({ length: 10 }, () => probe.ready()))).toEqual(Array(10).fill(true));
      for (let i = 0; i < 10; i++) expect(await probe.ready()).toBe(true);
    });
    expect(asked).toEqual(['select 1']);
    now += 1000;
    expect(await reads(() => probe.ready())).toEqual(['select 1']);
  });

});
