/**
 * The keyed audit chain, attacked by someone with database write access (triggers disabled, as the
 * test database's superuser) but without the master key: rows rewritten with the chain recomputed
 * in plain SHA-256, a tail cut with the head moved back, forged checkpoints, a moved cut-over.
 * Checkpoints are verified offline with jose and the organization's JWKS. Both backends.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { client, Client, expectError } from '../support/http';
import { testBackend, TestStore } from '../support/databases';
import { openDatabase } from '../../api/src/db/connect';
import { migrateLatest, migrateTo } from '../../api/src/db/migrate';
import { readMasterKey } from '../../api/src/crypto/master-key';
import { systemContext } from '../../api/src/services/organizations';
import { verifyAccessToken } from '../../sdk/src';
import type { CheckpointSigner } from '../../api/src/services/audit';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const knex = () => s.running.db.knex;

/** The chain as the previous code computed it: plain SHA-256 of the previous hash and the canonical event. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value instanceof Date ? value.toISOString() : value ?? null);
}
function sha256Link(prev: string, e: Record<string, any>): string {
  const body = canonical([e.organization_id, Number(e.seq), e.action, e.actor_type, e.actor_id, e.target_type, e.target_id, e.outcome, e.reason, e.request_id, e.client_ip, e.data, new Date(e.created_at).toISOString()]);
  return createHash('sha256').update(prev).update('\n').update(body).digest('hex');
}
const sha256Genesis = (orgId: string) => createHash('sha256').update(`certusordo-audit-genesis:${orgId}`).digest('hex');

/** Writes as the database superuser with the append-only trigger disabled. */
async function tamper(db: Knex, fn: (tx: Knex.Transaction) => Promise<void>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.raw('alter table audit_events disable trigger user');
    await fn(tx);
    await tx.raw('alter table audit_events enable trigger user');
  });
}

/** Rewrites event `seq` and recomputes every later link and the head with plain SHA-256. */
async function rewriteAndRechain(db: Knex, orgId: string, seq: number, reason: string): Promise<void> {
  await tamper(db, async (tx) => {
    const rows = await tx('audit_events').where({ organization_id: orgId }).andWhere('seq', '>=', seq).orderBy('seq');
    let prev = rows[0].prev_hash as string;
    for (const r of rows) {
      if (Number(r.seq) === seq) r.reason = reason;
      const hash = sha256Link(prev, r);
      await tx('audit_events').where({ id: r.id }).update({ reason: r.reason, prev_hash: prev, hash });
      prev = hash;
    }
    await tx('audit_chain_heads').where({ organization_id: orgId }).update({ last_hash: prev });
  });
}

async function newOrg(events = 4): Promise<{ orgId: string; api: Client; key: string }> {
  const { organizationId, apiKey } = await s.createOrganization('admin');
  const api = client(s.url, apiKey);
  for (let i = 0; i < events; i++) expect((await api.post('/v1/agents', { name: `a${i}` })).status).toBe(201);
  return { orgId: organizationId, api, key: apiKey };
}

const verify = async (api: Client, q = '') => (await api.get(`/v1/audit-events/verify${q}`).expect(200)).body;
const checkpoint = async (api: Client) => (await api.get('/v1/audit-events/checkpoint').expect(200)).body;

test('new organizations are keyed from the genesis: the plain SHA-256 chain does not reproduce a single link', async () => {
  const { orgId, api } = await newOrg(2);
  const rows = await knex()('audit_events').where({ organization_id: orgId }).orderBy('seq');
  expect(rows.length).toBeGreaterThanOrEqual(3);
  expect(rows[0].prev_hash).not.toBe(sha256Genesis(orgId));
  for (const r of rows) expect(sha256Link(r.prev_hash, r)).not.toBe(r.hash);
  expect(await knex()('audit_chain_heads').where({ organization_id: orgId }).first()).toMatchObject({ legacy_seq: null, legacy_mac: null });
  expect(await verify(api)).toMatchObject({ valid: true, first_broken_seq: null, seq: rows.length, from_seq: 0, events_checked: rows.length });
});

test('rows rewritten with the chain recomputed in plain SHA-256 are detected, by the incremental run, a full run and a checkpoint', async () => {
  const { orgId, api } = await newOrg(5);
  const cp = await checkpoint(api); // also stores the verified point
  await api.post('/v1/agents', { name: 'after-checkpoint' }).expect(201);
  await rewriteAndRechain(knex(), orgId, 3, 'rewritten');

  for (const q of ['', '?full=true', `?checkpoint=${cp.checkpoint}`]) {
    const v = await verify(api, q);
    expect(v).toMatchObject({ valid: false, first_broken_seq: 3, seq: null });
    expect(v.reason).toMatch(/event 3 was altered/);
  }
  // Even after the stored verified point is deleted too.
  await knex()('audit_verified_points').where({ organization_id: orgId }).delete();
  expect(await verify(api)).toMatchObject({ valid: false, first_broken_seq: 3 });
  expectError(await api.get('/v1/audit-events/checkpoint'), 409, 'conflict');
});

test('a cut tail with the head moved back is detected by the stored verified point and by a checkpoint taken before', async () => {
  const { orgId, api } = await newOrg(6);
  const cp = await checkpoint(api);
  const verified = await verify(api);
  expect(verified).toMatchObject({ valid: true, seq: cp.seq, events_checked: 0, from_seq: cp.seq });
  const keep = cp.seq - 3;
  await tamper(knex(), async (tx) => {
    const last = await tx('audit_events').where({ organization_id: orgId, seq: keep }).first();
    await tx('audit_events').where({ organization_id: orgId }).andWhere('seq', '>', keep).delete();
    await tx('audit_chain_heads').where({ organization_id: orgId }).update({ last_seq: keep, last_hash: last.hash });
  });
  let v = await verify(api);
  expect(v).toMatchObject({ valid: false, first_broken_seq: keep + 1 });
  expect(v.reason).toMatch(/cut off/);

  // The attacker removes the stored point as well: the checkpoint held outside the database still proves the cut.
  await knex()('audit_verified_points').where({ organization_id: orgId }).delete();
  expect(await verify(api)).toMatchObject({ valid: true, seq: keep });
  v = await verify(api, `?checkpoint=${cp.checkpoint}`);
  expect(v).toMatchObject({ valid: false, first_broken_seq: keep + 1 });
  expect(v.reason).toMatch(new RegExp(`ends at seq ${keep} but the checkpoint covers seq ${cp.seq}`));
});

test('a verified point the attacker writes (without the key) is ignored; a head moved back over kept events is detected', async () => {
  const { orgId, api } = await newOrg(3);
  const good = await verify(api);
  await knex()('audit_verified_points').where({ organization_id: orgId }).update({ seq: 1, mac: 'forged' });
  expect(await verify(api)).toMatchObject({ valid: true, from_seq: 0, seq: good.seq });

  const prev = await knex()('audit_events').where({ organization_id: orgId, seq: good.seq - 1 }).first();
  await knex()('audit_verified_points').where({ organization_id: orgId }).delete();
  await knex()('audit_chain_heads').where({ organization_id: orgId }).update({ last_seq: good.seq - 1, last_hash: prev.hash });
  expect(await verify(api)).toMatchObject({ valid: false, first_broken_seq: good.seq });
});

describe('checkpoints', () => {
  test('a checkpoint is a JWS over {org_id, seq, hash, created_at} that verifies offline with jose and the organization JWKS', async () => {
    const { orgId, api } = await newOrg(2);
    const head = await knex()('audit_chain_heads').where({ organization_id: orgId }).first();
    const cp = await checkpoint(api);
    expect(cp).toEqual({ checkpoint: expect.any(String), org_id: orgId, seq: Number(head.last_seq), hash: head.last_hash, created_at: expect.any(String) });

    // What an auditor does: discover the issuer's JWKS once, keep it, verify the checkpoint later without the server.
    const meta = (await request(s.url).get(`/.well-known/oauth-authorization-server/orgs/${orgId}`).expect(200)).body;
    const jwks = (await request(meta.jwks_uri).get('').expect(200)).body;
    const { payload, protectedHeader } = await jwtVerify(cp.checkpoint, createLocalJWKSet(jwks), {
      issuer: `${meta.issuer}/audit-checkpoints`, typ: 'certusordo-audit-checkpoint+jwt', algorithms: ['EdDSA'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: expect.any(String) });
    expect(payload).toMatchObject({ iss: `${meta.issuer}/audit-checkpoints`, org_id: orgId, seq: cp.seq, hash: cp.hash, created_at: cp.created_at });

    await api.post('/v1/agents', { name: 'later' }).expect(201);
    expect(await verify(api, `?checkpoint=${cp.checkpoint}`)).toMatchObject({ valid: true, first_broken_seq: null, seq: cp.seq + 1 });

    // A reader (an auditor) may take and check checkpoints.
    const reader = client(s.url, (await s.running.services.organizations.createApiKey(systemContext(orgId), { name: 'auditor', role: 'reader' })).key);
    const cp2 = await checkpoint(reader);
    expect(cp2.seq).toBeGreaterThan(cp.seq);
    expect(await verify(reader, `?checkpoint=${cp2.checkpoint}`)).toMatchObject({ valid: true });
    expectError(await reader.get('/v1/audit-events/verify?full=true'), 403, 'forbidden');
  });

  test('a checkpoint never passes as an access token: a verifier that checks only the issuer (and the SDK\'s) refuses it', async () => {
    const { orgId, api } = await newOrg(1);
    const cp = (await checkpoint(api)).checkpoint as string;
    const meta = (await request(s.url).get(`/.well-known/oauth-authorization-server/orgs/${orgId}`).expect(200)).body;
    const jwks = createLocalJWKSet((await request(meta.jwks_uri).get('').expect(200)).body);
    // The checkpoint is signed by a key of this very JWKS, so only the issuer tells it apart.
    await expect(jwtVerify(cp, jwks, { issuer: `${meta.issuer}/audit-checkpoints` })).resolves.toBeDefined();
    await expect(jwtVerify(cp, jwks, { issuer: meta.issuer })).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss' });
    await expect(jwtVerify(cp, jwks, { issuer: meta.issuer, audience: meta.issuer })).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    await expect(verifyAccessToken(cp, { issuer: meta.issuer })).rejects.toThrow();
    // Nor does the control plane itself take it as a Bearer token.
    expect((await request(s.url).get('/v1/sessions').set('Authorization', `Bearer ${cp}`)).status).toBe(401);
    expect((await api.post('/v1/oauth/introspect').type('form').send({ token: cp })).body).toEqual({ active: false });
  });

  test('a checkpoint taken before checkpoints had their own issuer (iss = the token issuer) still verifies at the server', async () => {
    const { orgId, api } = await newOrg(1);
    // The earlier versions' checkpoint: the same signer, with the token issuer as `iss`.
    const audit = s.running.services.audit as unknown as { signer: CheckpointSigner };
    const signer = audit.signer;
    s.running.services.audit.useCheckpointSigner({ ...signer, sign: (o, h, p) => signer.sign(o, h, { ...p, iss: signer.issuer(o) }) });
    let legacy: string;
    try {
      legacy = (await checkpoint(api)).checkpoint;
    } finally {
      s.running.services.audit.useCheckpointSigner(signer);
    }
    expect(decodeJwt(legacy).iss).toBe(signer.issuer(orgId));
    await api.post('/v1/agents', { name: 'after-legacy' }).expect(201);
    expect(await verify(api, `?checkpoint=${legacy}`)).toMatchObject({ valid: true, first_broken_seq: null });
    expect((await checkpoint(api)).checkpoint).not.toBe(legacy);
    expect(decodeJwt((await checkpoint(api)).checkpoint).iss).toBe(`${signer.issuer(orgId)}/audit-checkpoints`);
  });

  test("forged checkpoints — another key, another organization's, an edited payload — are refused without touching the chain", async () => {
    const a = await newOrg(2);
    const b = await newOrg(2);
    const cp = (await checkpoint(a.api)).checkpoint as string;
    const claims = decodeJwt(cp);
    const header = decodeProtectedHeader(cp);
    const other = generateKeyPairSync('ed25519').privateKey;
    const sign = (h: Record<string, unknown>, p: Record<string, unknown>) => new SignJWT(p).setProtectedHeader({ ...h, alg: 'EdDSA' } as never).sign(other);

    const cases: Array<[string, string, RegExp]> = [
      ['same kid, another key', await sign(header, claims), /signature does not verify/],
      ['another kid, another key', await sign({ ...header, kid: 'k'.repeat(43) }, claims), /not the organization's/],
      ['payload edited', await sign({ ...header, kid: 'k'.repeat(43) }, { ...claims, seq: 1 }), /not the organization's/],
      ["another organization's checkpoint", (await checkpoint(b.api)).checkpoint, /another organization's/],
      ['not a checkpoint', await sign({ ...header, typ: 'at+jwt' }, claims), /not an audit checkpoint/],
    ];
    for (const [, jws, reason] of cases) {
      const v = await verify(a.api, `?checkpoint=${jws}`);
      expect(v).toMatchObject({ valid: false, first_broken_seq: null, events_checked: 0 });
      expect(v.reason).toMatch(reason);
    }
    expectError(await a.api.get('/v1/audit-events/verify?checkpoint=not-a-jws'), 400, 'validation_error');
    expect(await verify(a.api, `?checkpoint=${cp}`)).toMatchObject({ valid: true });
  });

  test('a checkpoint whose signing key was retired and removed still verifies (by its seal); its chain must still extend it', async () => {
    const { orgId, api } = await newOrg(2);
    const cp = await checkpoint(api);
    await api.post('/v1/signing-keys/rotate', {}).expect(200);
    // Retired keys are deleted once their tokens have expired; do it now.
    const { kid } = decodeProtectedHeader(cp.checkpoint);
    await knex()('signing_keys').where({ organization_id: orgId, kid }).delete();
    await api.post('/v1/signing-keys/rotate', {}).expect(200); // makes every replica reload the organization's keys
    const jwks = (await request(s.url).get(`/orgs/${orgId}/.well-known/jwks.json`).expect(200)).body;
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).not.toContain(kid);
    expect(await verify(api, `?checkpoint=${cp.checkpoint}`)).toMatchObject({ valid: true });
    const fresh = await checkpoint(api);
    expect(decodeProtectedHeader(fresh.checkpoint).kid).not.toBe(kid);
    expect(await verify(api, `?checkpoint=${fresh.checkpoint}`)).toMatchObject({ valid: true });
  });
});

test('a walk reads the stored verified point before the chain head, so a newer point saved meanwhile by another replica never reads as a cut-off', async () => {
  const { orgId } = await newOrg(2);
  const tables: string[] = [];
  const onQuery = (q: { sql: string }) => {
    const t = /from "(audit_verified_points|audit_events|audit_chain_heads)"/.exec(q.sql)?.[1];
    if (t && !tables.includes(t)) tables.push(t);
  };
  knex().on('query', onQuery);
  try {
    expect(await s.running.services.audit.verify(knex(), orgId)).toMatchObject({ valid: true });
  } finally {
    knex().off('query', onQuery);
  }
  expect(tables.slice(0, 3)).toEqual(['audit_verified_points', 'audit_events', 'audit_chain_heads']);
});

test('concurrent verifications of one organization share one walk', async () => {
  const { orgId } = await newOrg(3);
  const audit = s.running.services.audit;
  const db = knex();
  const walks = audit.stats.walks;
  const results = await Promise.all(Array.from({ length: 8 }, () => audit.verify(db, orgId)));
  expect(audit.stats.walks - walks).toBe(1);
  for (const r of results) expect(r).toBe(results[0]);
  expect(results[0]).toMatchObject({ valid: true });
  // Another organization's verification is its own run.
  const other = await newOrg(1);
  const [x, y] = await Promise.all([audit.verify(db, orgId), audit.verify(db, other.orgId)]);
  expect(x).not.toBe(y);
  expect(audit.stats.walks - walks).toBe(3);
});

describe('cut-over of a chain begun before keyed links', () => {
  const LEGACY = '20261201000000_org_signing_keys';
  let store: TestStore;
  let legacy: TestServer;
  const masterKey = randomBytes(32).toString('base64url');
  const org = '0190a000-0000-7000-8000-0000000000aa';
  const LEGACY_EVENTS = 5;

  /** An empty database of the run's backend (not the migrated template). */
  async function emptyStore(): Promise<TestStore> {
    const name = `t_${randomBytes(6).toString('hex')}`;
    const dataDir = path.join(process.env.CERTUSORDO_TEST_ROOT!, name);
    fs.mkdirSync(dataDir, { recursive: true });
    if (testBackend() === 'pglite') return { backend: 'pglite', databaseUrl: undefined, dataDir };
    const adminUrl = process.env.CERTUSORDO_TEST_PG_ADMIN_URL!;
    const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
    await admin.raw(`create database ${name}`).finally(() => admin.destroy());
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return { backend: 'postgres', databaseUrl: url.toString(), dataDir };
  }

  beforeAll(async () => {
    store = await emptyStore();
    const db = await openDatabase({ databaseUrl: store.databaseUrl, dataDir: store.dataDir });
    try {
      await migrateTo(db.knex, LEGACY);
      // The organization's log as the previous code wrote it.
      const t0 = Date.parse('2026-11-20T10:00:00Z');
      await db.knex('organizations').insert({ id: org, name: 'legacy', created_at: new Date(t0) });
      let prev = sha256Genesis(org);
      for (let seq = 1; seq <= LEGACY_EVENTS; seq++) {
        const e = {
          organization_id: org, seq, action: seq === 1 ? 'organization.created' : 'agent.created', actor_type: 'system', actor_id: null,
          target_type: 'organization', target_id: org, outcome: 'success', reason: seq === 2 ? 'legacy reason' : null, request_id: null,
          client_ip: null, data: { n: seq, nested: { b: 1, a: [1, 'x'] } }, created_at: new Date(t0 + seq * 1000),
        };
        const hash = sha256Link(prev, e);
        await db.knex('audit_events').insert({ ...e, id: `0190a000-0000-7000-8000-0000000001${String(seq).padStart(2, '0')}`, data: JSON.stringify(e.data), prev_hash: prev, hash });
        prev = hash;
      }
      await db.knex('audit_chain_heads').insert({ organization_id: org, last_seq: LEGACY_EVENTS, last_hash: prev });
      // Without the master key the migration refuses (and changes nothing).
      await expect(migrateLatest(db.knex)).rejects.toThrow(/seals the 1 existing audit chain\(s\) with the master key/);
      expect(await db.knex.schema.hasColumn('audit_chain_heads', 'legacy_seq')).toBe(false);
    } finally {
      await db.close();
    }
    // The server migrates with its master key on start.
    legacy = await startTestServer({ store, masterKey });
  });
  afterAll(async () => legacy?.close());

  const adminOf = async () => client(legacy.url, (await legacy.running.services.organizations.createApiKey(systemContext(org), { name: 'admin', role: 'admin' })).key);

  test('the legacy prefix verifies, the migration appends a keyed event linked to it, and later events are keyed', async () => {
    const db = legacy.running.db.knex;
    const head = await db('audit_chain_heads').where({ organization_id: org }).first();
    expect(head).toMatchObject({ legacy_seq: LEGACY_EVENTS, legacy_mac: expect.any(String) });
    const api = await adminOf();
    await api.post('/v1/agents', { name: 'after-cut-over' }).expect(201);
    const rows = await db('audit_events').where({ organization_id: org }).orderBy('seq');
    const keyed = rows[LEGACY_EVENTS];
    expect(keyed).toMatchObject({ seq: LEGACY_EVENTS + 1, action: 'audit.chain_keyed', actor_type: 'system', prev_hash: rows[LEGACY_EVENTS - 1].hash });
    expect(keyed.data).toEqual({ legacy_seq: LEGACY_EVENTS, legacy_hash: rows[LEGACY_EVENTS - 1].hash });
    for (const r of rows.slice(LEGACY_EVENTS)) expect(sha256Link(r.prev_hash, r)).not.toBe(r.hash);
    const v = await verify(api, '?full=true');
    expect(v).toMatchObject({ valid: true, seq: rows.length, events_checked: rows.length });
    const cp = await checkpoint(api);
    expect(await verify(api, `?checkpoint=${cp.checkpoint}`)).toMatchObject({ valid: true });
  });

  test('a rewritten legacy event, a moved or removed cut-over are detected', async () => {
    const db = legacy.running.db.knex;
    const api = await adminOf();
    expect(await verify(api, '?full=true')).toMatchObject({ valid: true });
    const head = await db('audit_chain_heads').where({ organization_id: org }).first();

    // The legacy prefix rewritten and re-chained in SHA-256: the sealed cut-over (and the keyed event after it) no longer match.
    await rewriteAndRechain(db, org, 2, 'rewritten');
    let v = await verify(api);
    expect(v.valid).toBe(false);
    expect(v.first_broken_seq).toBeLessThanOrEqual(LEGACY_EVENTS + 1);
    await rewriteAndRechain(db, org, 2, 'legacy reason'); // restores the original legacy links, but the keyed suffix is now SHA-256
    v = await verify(api, '?full=true');
    expect(v).toMatchObject({ valid: false, first_broken_seq: LEGACY_EVENTS + 1 });

    // Relabel everything as legacy: the cut-over's seal does not match.
    await db('audit_chain_heads').where({ organization_id: org }).update({ legacy_seq: head.last_seq });
    v = await verify(api, '?full=true');
    expect(v).toMatchObject({ valid: false, first_broken_seq: 1 });
    expect(v.reason).toMatch(/cut-over/);
    // Remove the cut-over: the chain is then checked as keyed from its genesis, and its first event is not.
    await db('audit_chain_heads').where({ organization_id: org }).update({ legacy_seq: null, legacy_hash: null, legacy_mac: null });
    expect(await verify(api, '?full=true')).toMatchObject({ valid: false, first_broken_seq: 1 });
  });
});

test('the master key fixes the chain: another process with the same key verifies it, one with another key cannot', async () => {
  const { orgId } = await newOrg(1);
  const { AuditLog } = await import('../../api/src/services/audit');
  const same = new AuditLog(readMasterKey(s.config.masterKey, s.store.dataDir)!.keys.auditChain);
  expect(await same.verify(knex(), orgId, { full: true })).toMatchObject({ valid: true });
  const other = new AuditLog(randomBytes(32));
  expect(await other.verify(knex(), orgId, { full: true })).toMatchObject({ valid: false, first_broken_seq: 1 });
});
