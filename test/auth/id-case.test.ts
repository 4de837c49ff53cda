/**
 * Ids in any letter case. A UUID is case-insensitive (RFC 9562), so a request may spell an agent's,
 * a session's or an API key's id in capitals, and PostgreSQL finds the row all the same. The change
 * must then take effect exactly as with the canonical (lowercase) spelling: this process forgets the
 * state it cached before it answers, so the live tokens are refused at once (on PGlite that is the
 * only invalidation there is), audit events name the agent as the `agent_id` filter finds it, and a
 * key added is sealed to the agent the token endpoint checks it against.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { generateEd25519, jwkThumbprint } from '../../api/src/crypto/ed25519';
import { controlPlaneRoutes } from '../../api/src/routes';
import { systemContext } from '../../api/src/services/organizations';
import type { InvalidationEvent } from '../../api/src/tokens/invalidation';
import { startTestServer, TestServer } from '../support/server';
import { admin, ASSERTION_TYPE, assertion, createAgent, getToken, introspect, requestToken, seedFromSecret, TestAgent, tokenRequest } from './helpers';

let s: TestServer;
let operator: string;
beforeAll(async () => {
  s = await startTestServer();
  operator = await s.createApiKey('operator');
});
afterAll(async () => s?.close());

const upper = (id: string): string => id.toUpperCase();
/** Every other hex letter in capitals: neither spelling a naive comparison would try. */
const mixed = (id: string): string => {
  let flip = false;
  return id.replace(/[a-f]/g, (c) => ((flip = !flip) ? c.toUpperCase() : c));
};

const bearer = (token: string) => ({
  get: (path: string) => request(s.url).get(path).set('Authorization', `Bearer ${token}`),
  post: (path: string, body: object = {}) => request(s.url).post(path).set('Authorization', `Bearer ${token}`).send(body),
  del: (path: string) => request(s.url).delete(path).set('Authorization', `Bearer ${token}`),
});

/** A control-plane call made with an agent's token: 200 while the token is good, 401 once it is not. */
const callWith = async (token: string): Promise<number> => (await bearer(token).get('/v1/sessions')).status;

/**
 * What this process's bus was told while `act` ran (services announce a change after it commits and
 * before they answer). On PostgreSQL a trigger's notification names the row's id too, but it may
 * arrive after the response: this is what makes "forgotten before the response" hold there.
 */
async function announcedDuring(act: () => Promise<unknown>): Promise<InvalidationEvent[]> {
  const spy = jest.spyOn(s.running.invalidations, 'publishLocal');
  try {
    await act();
    return spy.mock.calls.map(([e]) => e);
  } finally {
    spy.mockRestore();
  }
}

/** The audit actions recorded for `agentId`, as the filter finds them with this spelling of it. */
async function auditActions(agentId: string): Promise<string[]> {
  const res = await admin(s).get(`/v1/audit-events?agent_id=${agentId}&limit=200`).expect(200);
  return res.body.data.map((e: { action: string }) => e.action);
}

describe('a change named by a capitalized id takes effect at once', () => {
  test('suspend: the agent\'s live token is refused before the response', async () => {
    const a = await createAgent(s);
    const token = await getToken(s, a);
    // Both answers are now in this process's caches.
    expect((await introspect(s.url, s.apiKey, token)).active).toBe(true);
    expect(await callWith(token)).toBe(200);

    let body: { id?: string; status?: string } = {};
    const announced = await announcedDuring(async () => {
      body = (await admin(s).post(`/v1/agents/${upper(a.id)}/suspend`).expect(200)).body;
    });
    expect(body).toMatchObject({ id: a.id, status: 'suspended' });
    expect(await introspect(s.url, s.apiKey, token)).toEqual({ active: false });
    expect(await callWith(token)).toBe(401);
    expect(announced).toContainEqual({ kind: 'agent', id: a.id });
  });

  test('revoke: likewise', async () => {
    const a = await createAgent(s);
    const token = await getToken(s, a);
    expect((await introspect(s.url, s.apiKey, token)).active).toBe(true);
    expect(await callWith(token)).toBe(200);

    const announced = await announcedDuring(() => admin(s).post(`/v1/agents/${mixed(a.id)}/revoke`, { reason: 'compromised' }).expect(200));
    expect(await introspect(s.url, s.apiKey, token)).toEqual({ active: false });
    expect(await callWith(token)).toBe(401);
    expect(announced).toContainEqual({ kind: 'agent', id: a.id });
  });

  test('a scope removed by PATCH leaves the live token at once', async () => {
    const a = await createAgent(s, { scopes: ['payments:read', 'payments:write'] });
    const token = await getToken(s, a);
    expect((await introspect(s.url, s.apiKey, token)).scope).toBe('payments:read payments:write');

    const announced = await announcedDuring(() => admin(s).patch(`/v1/agents/${upper(a.id)}`, { scopes: ['payments:read'] }).expect(200));
    expect(await introspect(s.url, s.apiKey, token)).toMatchObject({ active: true, scope: 'payments:read' });
    expect(announced).toContainEqual({ kind: 'credentials', id: a.id });
  });

  test('an actor removed from may_act (PATCH or DELETE) loses its delegated token at once', async () => {
    const subject = await createAgent(s);
    const [viaPatch, viaDelete] = [await createAgent(s), await createAgent(s)];
    await admin(s).patch(`/v1/agents/${subject.id}`, { may_act: [viaPatch.id, viaDelete.id] }).expect(200);
    const subjectToken = await getToken(s, subject);
    const delegated = async (actor: TestAgent): Promise<string> => {
      const res = await tokenRequest(s, {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: subjectToken,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, actor),
      });
      if (res.status !== 200) throw new Error(`exchange: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.access_token;
    };
    const [patchToken, deleteToken] = [await delegated(viaPatch), await delegated(viaDelete)];
    for (const t of [patchToken, deleteToken]) expect((await introspect(s.url, s.apiKey, t)).active).toBe(true);

    const patched = await announcedDuring(() => admin(s).patch(`/v1/agents/${upper(subject.id)}`, { may_act: [upper(viaDelete.id)] }).expect(200));
    expect(await introspect(s.url, s.apiKey, patchToken)).toEqual({ active: false });
    expect((await introspect(s.url, s.apiKey, deleteToken)).active).toBe(true);
    expect(patched).toContainEqual({ kind: 'delegation', subjectId: subject.id, actorId: viaPatch.id });

    const deleted = await announcedDuring(() => admin(s).del(`/v1/agents/${upper(subject.id)}/delegations/${mixed(viaDelete.id)}`).expect(200));
    expect(await introspect(s.url, s.apiKey, deleteToken)).toEqual({ active: false });
    expect(deleted).toContainEqual({ kind: 'delegation', subjectId: subject.id, actorId: viaDelete.id });
  });

  test('a session ended (or spent) by a capitalized id: its token is refused at once', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const agentToken = await getToken(s, a);
    const open = async (body: object = {}): Promise<{ id: string; access_token: string }> =>
      (await bearer(agentToken).post('/v1/sessions', { scopes: ['payments:read'], ...body }).expect(201)).body;

    // Ended with an API key.
    const byKey = await open();
    expect((await introspect(s.url, s.apiKey, byKey.access_token)).active).toBe(true);
    const ended = await announcedDuring(() => bearer(operator).del(`/v1/sessions/${upper(byKey.id)}`).expect(200));
    expect(await introspect(s.url, s.apiKey, byKey.access_token)).toEqual({ active: false });
    expect(await callWith(byKey.access_token)).toBe(401);
    expect(ended).toContainEqual({ kind: 'session', id: byKey.id });

    // Ended by its own session token, which names the session as the token's `sid` does, in capitals.
    const own = await open();
    expect(await callWith(own.access_token)).toBe(200);
    expect((await bearer(own.access_token).del(`/v1/sessions/${upper(own.id)}`)).status).toBe(200);
    expect(await introspect(s.url, s.apiKey, own.access_token)).toEqual({ active: false });

    // Its last operation recorded: the spent session's token is refused at once.
    const budget = await open({ max_operations: 1 });
    expect((await introspect(s.url, s.apiKey, budget.access_token)).active).toBe(true);
    const spent = await announcedDuring(() => bearer(operator).post(`/v1/sessions/${mixed(budget.id)}/operations`, { scope: 'payments:read' }).expect(200));
    expect(await introspect(s.url, s.apiKey, budget.access_token)).toEqual({ active: false });
    expect(spent).toContainEqual({ kind: 'session', id: budget.id });

    // The agent lists its sessions by its id in capitals as in lowercase.
    const listed = async (agentId: string) => (await bearer(agentToken).get(`/v1/sessions?agent_id=${agentId}`).expect(200)).body.data.map((x: { id: string }) => x.id).sort();
    expect(await listed(upper(a.id))).toEqual(await listed(a.id));
    expect(await listed(a.id)).toHaveLength(3);
  });

  test('an API key revoked by a capitalized id is refused at once, and audited under its id', async () => {
    const created = await admin(s).post('/v1/api-keys', { name: `k-${randomUUID().slice(0, 8)}`, role: 'reader' }).expect(201);
    expect((await bearer(created.body.key).get('/v1/agents')).status).toBe(200);
    await admin(s).post(`/v1/api-keys/${upper(created.body.id)}/revoke`).expect(200);
    expect((await bearer(created.body.key).get('/v1/agents')).status).toBe(401);
    const events = (await admin(s).get('/v1/audit-events?action=api_key.revoked&order=desc&limit=5').expect(200)).body.data;
    expect(events[0]).toMatchObject({ target_type: 'api_key', target_id: created.body.id });
  });
});

describe('keys added by a capitalized agent id', () => {
  test('a brought key authenticates', async () => {
    const a = await createAgent(s);
    const own = generateEd25519();
    const added = await admin(s).post(`/v1/agents/${upper(a.id)}/keys`, { public_key: own.publicKey.toString('base64url') }).expect(201);
    expect(added.body.kid).toBe(jwkThumbprint(own.publicKey));
    const brought: TestAgent = { ...a, seed: own.seed, publicKey: own.publicKey.toString('base64url') };
    const res = await requestToken(s, brought, {}, { kid: added.body.kid });
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 200, error: undefined });
  });

  test('a generated key\'s secret names the agent by its id and authenticates', async () => {
    const a = await createAgent(s);
    const added = await admin(s).post(`/v1/agents/${mixed(a.id)}/keys`).expect(201);
    expect(added.body.secret.startsWith(`cos_${a.id}_`)).toBe(true);
    const generated: TestAgent = { ...a, seed: seedFromSecret(added.body.secret), publicKey: added.body.public_key };
    expect((await requestToken(s, generated, {}, { kid: added.body.kid })).status).toBe(200);
  });
});

test('the audit events of changes named by a capitalized id are found by the agent\'s id, in either spelling', async () => {
  const a = await createAgent(s, { scopes: ['payments:read', 'payments:write'] });
  const id = upper(a.id);
  await admin(s).patch(`/v1/agents/${id}`, { scopes: ['payments:read'] }).expect(200);
  const key = (await admin(s).post(`/v1/agents/${id}/keys`).expect(201)).body.kid;
  await admin(s).del(`/v1/agents/${id}/keys/${key}`).expect(200);
  await admin(s).post(`/v1/agents/${id}/suspend`).expect(200);
  await admin(s).post(`/v1/agents/${id}/activate`).expect(200);
  await admin(s).post(`/v1/agents/${id}/revoke`).expect(200);
  const expected = ['agent.created', 'agent.updated', 'agent_key.created', 'agent_key.revoked', 'agent.suspended', 'agent.activated', 'agent.revoked'];
  expect(await auditActions(a.id)).toEqual(expected);
  expect(await auditActions(upper(a.id))).toEqual(expected);
  expect(await auditActions(mixed(a.id))).toEqual(expected);
});

/**
 * The services, called without the routes (which canonicalize first): once they have read the row
 * they name the agent or session by its id, so another caller (the CLI, a future route) that passes
 * a spelling through gets the same guarantees.
 */
describe('services given a capitalized id directly', () => {
  const ctx = () => systemContext(s.organizationId);

  test('AgentService: a suspension announces the row\'s id, audits under it, and refuses the live token', async () => {
    const a = await createAgent(s);
    const token = await getToken(s, a);
    expect((await introspect(s.url, s.apiKey, token)).active).toBe(true);
    const announced = await announcedDuring(() => s.running.services.agents.transition(ctx(), upper(a.id), 'suspend', undefined));
    expect(await introspect(s.url, s.apiKey, token)).toEqual({ active: false });
    expect(announced).toContainEqual({ kind: 'agent', id: a.id });
    expect(await auditActions(a.id)).toContain('agent.suspended');
  });

  test('AgentService: a key added is sealed to the row\'s id', async () => {
    const a = await createAgent(s);
    const own = generateEd25519();
    const added = await s.running.services.agents.addKey(ctx(), mixed(a.id), own.publicKey.toString('base64url'));
    const brought: TestAgent = { ...a, seed: own.seed, publicKey: own.publicKey.toString('base64url') };
    expect((await requestToken(s, brought, {}, { kid: added.response.kid })).status).toBe(200);
  });

  test('SessionService: an ended session is announced under the row\'s id', async () => {
    const a = await createAgent(s, { scopes: ['payments:read'] });
    const opened = (await bearer(await getToken(s, a)).post('/v1/sessions', { scopes: ['payments:read'] }).expect(201)).body;
    expect((await introspect(s.url, s.apiKey, opened.access_token)).active).toBe(true);
    const announced = await announcedDuring(() => s.running.auth.sessions.end(ctx(), upper(opened.id)));
    expect(await introspect(s.url, s.apiKey, opened.access_token)).toEqual({ active: false });
    expect(announced).toContainEqual({ kind: 'session', id: opened.id });
  });
});

describe('any spelling of an id names the same thing; anything else still names nothing', () => {
  test('GET /v1/agents/{id}: every case variant answers the same agent', async () => {
    const a = await createAgent(s);
    const canonical = (await admin(s).get(`/v1/agents/${a.id}`).expect(200)).body;
    // Each hex letter in either case, drawn at random: many spellings, none of them special.
    const variants = [upper(a.id), mixed(a.id), ...Array.from({ length: 20 }, () => a.id.replace(/[a-f]/g, (c) => (Math.random() < 0.5 ? c.toUpperCase() : c)))];
    for (const v of variants) expect([v, (await admin(s).get(`/v1/agents/${v}`)).body]).toEqual([v, canonical]);
    const listed = (await admin(s).get(`/v1/agents?id=${upper(a.id)}`).expect(200)).body.data;
    expect(listed).toEqual([canonical]);
  });

  test('a non-UUID is 404 not_found as before, whatever its case', async () => {
    const a = await createAgent(s);
    const notUuids = [
      'nope', 'NOPE', `${a.id}x`, `${upper(a.id)}0`, a.id.replace(/-/g, ''), upper(a.id).replace(/-/g, ''), encodeURIComponent(`{${a.id}}`), `urn:uuid:${a.id}`,
      a.id.slice(1), `${a.id.slice(0, -1)}G`, encodeURIComponent(` ${a.id}`), encodeURIComponent(`${a.id}\n`), encodeURIComponent(`Ａ${a.id.slice(1)}`),
    ];
    for (const bad of notUuids) {
      const res = await admin(s).get(`/v1/agents/${bad}`);
      expect([bad, res.status, res.body.error?.code]).toEqual([bad, 404, 'not_found']);
    }
    for (const bad of ['nope', `${upper(a.id)}0`]) {
      expect((await admin(s).post(`/v1/agents/${bad}/suspend`)).status).toBe(404);
      expect((await bearer(operator).get(`/v1/sessions/${bad}`)).status).toBe(404);
      expect((await admin(s).get(`/v1/agents?id=${bad}`).expect(200)).body.data).toEqual([]);
    }
    // The agent was never touched.
    expect((await admin(s).get(`/v1/agents/${a.id}`).expect(200)).body.status).toBe('active');
  });

  test('every route\'s id parameters come out in the canonical spelling (a new route gets it from schemas/ids.ts)', () => {
    // An organization's issuer has one spelling (RFC 8414 §3.3): another is no issuer, not the same one.
    const exact = new Set(['org_id']);
    const id = randomUUID();
    const checked: string[] = [];
    for (const manifest of controlPlaneRoutes) {
      for (const route of manifest.routes) {
        if (!route.params) continue;
        const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
        // A key id is a JWK thumbprint (base64url), whose case is part of it.
        const ids = names.filter((n) => !exact.has(n) && n !== 'kid');
        const parsed = route.params.parse(Object.fromEntries(names.map((n) => [n, ids.includes(n) ? upper(id) : 'x']))) as Record<string, unknown>;
        for (const n of ids) {
          checked.push(`${route.method} ${route.path} ${n}`);
          expect([route.path, n, parsed[n]]).toEqual([route.path, n, id]);
        }
      }
    }
    expect(checked.length).toBeGreaterThan(20);
  });
});
