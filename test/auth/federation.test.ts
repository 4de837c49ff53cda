/**
 * Secretless agents (workload identity federation): an agent declared with only a federated
 * credential has no key and no secret anywhere, and its workload's platform token — from an issuer
 * the test runs itself over HTTPS with its own CA (discovery, JWKS, rotation), or whose keys are
 * given inline — gets it an agent token. Every forgery and mismatch is the one `invalid_client`.
 * The issuer-key refresh clock is injected: the test moves it instead of waiting.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type dns from 'node:dns';
import { IssuerFetchError, jsonFetcher } from '../../api/src/federation/fetch';
import request from 'supertest';
import { startTestServer, TestServer, TestServerOptions } from '../support/server';
import { testBackend } from '../support/databases';
import { hmacWithPublicKey, IssuerKey, makeKey, makeTestCa, signToken, SilentHost, TestCa, TestIssuer, unsignedToken } from '../support/oidc-issuer';
import { admin, ASSERTION_TYPE, decodePayload, introspect, nextInvalidation, requestToken, createAgent, tokenRequest } from './helpers';

const SUBJECT = 'repo:acme/payments:ref:refs/heads/main';
const WORKFLOW = 'acme/payments/.github/workflows/deploy.yml@refs/heads/main';

let tls: TestCa;
let s: TestServer;
let issuer: TestIssuer;
let rsa: IssuerKey;
let clock = Date.now();

beforeAll(async () => {
  tls = makeTestCa();
  rsa = makeKey('RS256');
  issuer = await TestIssuer.start(tls, [rsa, makeKey('PS256'), makeKey('ES256'), makeKey('EdDSA')]);
  s = await startTestServer(federating());
});
afterAll(async () => {
  await s?.close();
  await issuer?.close();
});

const masterKey = randomBytes(32).toString('base64url');
/** A control plane that trusts the test CA, with private networks allowed and the refresh clock injected. */
const federating = (o: TestServerOptions = {}): TestServerOptions => ({
  masterKey, ...o,
  env: { CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS: '1', ...o.env },
  federation: { ca: tls.ca, now: () => clock, timeoutMs: 60_000 },
});

const orgIssuer = (t: TestServer = s, orgId = t.organizationId) => `${t.config.publicUrl ?? t.url}/orgs/${orgId}`;
/** The refresh interval has passed for every issuer (the server's refresh clock). */
const afterRefreshInterval = () => (clock += 31_000);

/** What a GitHub Actions job's token carries for this workflow (the claims the credential pins). */
const claims = (extra: Record<string, unknown> = {}) => ({ iss: issuer.url, sub: SUBJECT, aud: orgIssuer(), repository_owner: 'acme', job_workflow_ref: WORKFLOW, ...extra });

async function createSecretless(body: Record<string, unknown> = {}, apiKey = s.apiKey, t: TestServer = s) {
  const res = await admin(t, apiKey).post('/v1/agents', {
    name: `ci-${randomUUID().slice(0, 8)}`, scopes: ['deploy:write'],
    federated_credentials: [{ issuer: issuer.url, subject: SUBJECT, claims: { job_workflow_ref: WORKFLOW } }],
    ...body,
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; public_key: string | null; secret?: string };
}

const platformToken = (agentId: string, token: string, extra: Record<string, string> = {}) =>
  tokenRequest(s, { grant_type: 'client_credentials', client_id: agentId, client_assertion_type: ASSERTION_TYPE, client_assertion: token, ...extra });

function expectInvalidClient(res: request.Response): void {
  expect(res.status).toBe(401);
  // One answer for every failure: nothing tells which check failed.
  expect(res.body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed' });
}

describe('an agent with only a federated credential', () => {
  test('has no key and no secret; its platform token gets it a token, again and again until it expires', async () => {
    const agent = await createSecretless();
    expect(agent.public_key).toBeNull();
    expect(agent).not.toHaveProperty('secret');
    expect((await admin(s).get(`/v1/agents/${agent.id}/keys`)).body.data).toEqual([]);
    const creds = (await admin(s).get(`/v1/agents/${agent.id}/federated-credentials`)).body.data;
    expect(creds).toEqual([expect.objectContaining({ issuer: issuer.url, subject: SUBJECT, audience: orgIssuer(), claims: { job_workflow_ref: WORKFLOW }, jwks: null, status: 'active', revoked_at: null })]);

    const jti = randomUUID();
    const token = await signToken(rsa, claims({ jti }));
    const first = await platformToken(agent.id, token, { scope: 'deploy:write' });
    expect(first.status).toBe(200);
    const access = decodePayload(first.body.access_token);
    expect(access).toMatchObject({ sub: agent.id, iss: orgIssuer(), scope: 'deploy:write' });
    expect(await introspect(s.url, s.apiKey, first.body.access_token)).toMatchObject({ active: true, sub: agent.id });
    // Kubernetes rewrites its token file at ~80 % of the lifetime: the same token works again meanwhile.
    expect((await platformToken(agent.id, token)).status).toBe(200);

    await s.running.settleAuthAudit();
    const events = (await admin(s).get(`/v1/audit-events?agent_id=${agent.id}&action=agent.authenticated`)).body.data;
    expect(events).toHaveLength(2);
    expect(events[0].data).toMatchObject({ method: 'private_key_jwt', credential_id: creds[0].id, iss: issuer.url, sub: SUBJECT, assertion_jti: jti });
    expect(JSON.stringify(events)).not.toContain(token.split('.')[2]);
    expect((await admin(s).get(`/v1/agents/${agent.id}`)).body.last_auth_at).not.toBeNull();
    const created = (await admin(s).get(`/v1/audit-events?agent_id=${agent.id}&action=agent.created`)).body.data[0];
    expect(created.data).toMatchObject({ key_source: 'none', kid: null, federated_credentials: [{ id: creds[0].id, issuer: issuer.url, subject: SUBJECT }] });
  });

  test('every algorithm the platforms use: RS256, PS256, ES256, EdDSA', async () => {
    const agent = await createSecretless();
    for (const key of issuer.keys) expect([key.alg, (await platformToken(agent.id, await signToken(key, claims()))).status]).toEqual([key.alg, 200]);
  });

  test('wrong subject, audience or claim, missing or far exp, another key, alg none, HS256 keyed with the public key, an untrusted issuer: invalid_client', async () => {
    const agent = await createSecretless();
    const stranger = makeKey('RS256', rsa.kid); // same kid, not the issuer's key
    const now = Math.floor(Date.now() / 1000);
    const forgeries: Array<[string, string]> = [
      ['wrong subject', await signToken(rsa, claims({ sub: 'repo:acme/payments:ref:refs/heads/feature' }))],
      ['wrong audience', await signToken(rsa, claims({ aud: 'sts.amazonaws.com' }))],
      ['wrong claim', await signToken(rsa, claims({ job_workflow_ref: 'acme/payments/.github/workflows/other.yml@refs/heads/main' }))],
      ['missing exp', await signToken(rsa, claims(), { omit: ['exp'] })],
      ['exp more than 24 h ahead', await signToken(rsa, claims({ iat: now, exp: now + 25 * 3600 }))],
      ['expired', await signToken(rsa, claims({ iat: now - 600, exp: now - 60 }))],
      ['issued in the future', await signToken(rsa, claims({ iat: now + 600, exp: now + 900 }))],
      ['another key', await signToken(stranger, claims())],
      ['alg none', unsignedToken(claims({ iat: now, exp: now + 300 }), rsa.kid)],
      ['HS256 keyed with the public key', hmacWithPublicKey(rsa, claims({ iat: now, exp: now + 300 }))],
      ['an untrusted issuer', await signToken(rsa, claims({ iss: 'https://token.actions.githubusercontent.com' }))],
      ['a jti with U+0000', await signToken(rsa, claims({ jti: 'a\u0000b' }))],
    ];
    for (const [what, token] of forgeries) {
      const res = await platformToken(agent.id, token);
      expect([what, res.status]).toEqual([what, 401]);
      expectInvalidClient(res);
    }
    // Without client_id the token names no agent: refused the same way.
    expectInvalidClient(await tokenRequest(s, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await signToken(rsa, claims()) }));
    // The reasons are for the audit log only (failures found before the agent is read are logged, as for agent assertions).
    await s.running.settleAuthAudit();
    const reasons = (await admin(s).get(`/v1/audit-events?agent_id=${agent.id}&action=agent.authentication_failed`)).body.data.map((e: { reason: string }) => e.reason);
    expect(reasons.sort()).toEqual(['bad_signature', 'claims_mismatch', 'untrusted_issuer', 'wrong_audience', 'wrong_subject']);
  });

  test('another organization\'s agent trusting the same workload is refused: the token\'s audience is this organization\'s', async () => {
    const other = await s.createOrganization();
    const theirs = await createSecretless({}, other.apiKey);
    expectInvalidClient(await platformToken(theirs.id, await signToken(rsa, claims())));
    // Nor may it name this organization's issuer as a custom audience.
    const res = await admin(s, other.apiKey).post(`/v1/agents/${theirs.id}/federated-credentials`, { issuer: issuer.url, subject: SUBJECT, audience: orgIssuer() });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'audience', message: expect.stringMatching(/another organization/) })]);
    // And sees nothing of this organization's agents.
    const mine = await createSecretless();
    expect((await admin(s, other.apiKey).get(`/v1/agents/${mine.id}/federated-credentials`)).status).toBe(404);
    const cred = (await admin(s).get(`/v1/agents/${mine.id}/federated-credentials`)).body.data[0];
    expect((await admin(s, other.apiKey).del(`/v1/agents/${mine.id}/federated-credentials/${cred.id}`)).status).toBe(404);
  });

  test('a suspended agent is refused, and its tokens die at once', async () => {
    const agent = await createSecretless();
    const token = await signToken(rsa, claims());
    const issued = await platformToken(agent.id, token);
    expect(issued.status).toBe(200);
    expect((await admin(s).post(`/v1/agents/${agent.id}/suspend`)).status).toBe(200);
    expect((await introspect(s.url, s.apiKey, issued.body.access_token)).active).toBe(false);
    const refused = await platformToken(agent.id, token);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
  });

  test('rotation at the issuer: a new kid is fetched (at most once per 30 s per issuer) and works', async () => {
    const agent = await createSecretless();
    expect((await platformToken(agent.id, await signToken(rsa, claims()))).status).toBe(200);
    const next = makeKey('ES256');
    issuer.keys = [...issuer.keys, next];
    const before = issuer.fetches;
    // Within the refresh interval of the last fetch the new kid is not fetched yet: refused, no request to the issuer.
    expectInvalidClient(await platformToken(agent.id, await signToken(next, claims())));
    expect(issuer.fetches).toBe(before);
    afterRefreshInterval();
    expect((await platformToken(agent.id, await signToken(next, claims()))).status).toBe(200);
    // One refresh: the discovery document and the JWKS.
    expect(issuer.requests.slice(before)).toEqual(['/.well-known/openid-configuration', '/keys']);
  });

  test('while the issuer is down its known keys keep working for an hour since they were fetched, then none is trusted until it answers again', async () => {
    const agent = await createSecretless();
    afterRefreshInterval();
    const token = await signToken(rsa, claims());
    expect((await platformToken(agent.id, token)).status).toBe(200);
    issuer.failing = true;
    try {
      clock += 11 * 60_000; // past the 10-minute maximum age: each use tries a refresh, which fails
      expect((await platformToken(agent.id, await signToken(rsa, claims()))).status).toBe(200);
      clock += 50 * 60_000; // over an hour since the keys were last fetched
      expectInvalidClient(await platformToken(agent.id, await signToken(rsa, claims())));
    } finally {
      issuer.failing = false;
    }
    afterRefreshInterval();
    expect((await platformToken(agent.id, await signToken(rsa, claims()))).status).toBe(200);
  });
});

(testBackend() === 'postgres' ? describe : describe.skip)('two replicas on one PostgreSQL', () => {
  let b: TestServer;
  beforeAll(async () => { b = await startTestServer(federating({ store: s.store, env: { CERTUSORDO_PUBLIC_URL: s.url } })); });
  afterAll(async () => b?.close());

  test('a credential removed on A is refused on B at once; the agent\'s other credential keeps working there', async () => {
    const agent = await createSecretless();
    const [first] = (await admin(s).get(`/v1/agents/${agent.id}/federated-credentials`)).body.data;
    const production = 'repo:acme/payments:environment:production';
    expect((await admin(s).post(`/v1/agents/${agent.id}/federated-credentials`, { issuer: issuer.url, subject: production })).status).toBe(201);
    const onB = (token: string) => tokenRequest(b, { grant_type: 'client_credentials', client_id: agent.id, client_assertion_type: ASSERTION_TYPE, client_assertion: token });
    const token = await signToken(rsa, claims());
    expect((await onB(token)).status).toBe(200);
    const heard = nextInvalidation(b, 'B hears of the removed credential', (e) => e.kind === 'credentials' && e.id === agent.id);
    expect((await admin(s).del(`/v1/agents/${agent.id}/federated-credentials/${first.id}`)).status).toBe(200);
    await heard;
    expectInvalidClient(await onB(token));
    expect((await onB(await signToken(rsa, claims({ sub: production })))).status).toBe(200);
  });
});

describe('keys given inline (an issuer the control plane cannot reach)', () => {
  test('authenticate without any fetch, for any issuer name', async () => {
    const key = makeKey('EdDSA');
    const cluster = 'https://kubernetes.default.svc.cluster.local';
    const sa = 'system:serviceaccount:payments:deployer';
    const res = await admin(s).post('/v1/agents', {
      name: `k8s-${randomUUID().slice(0, 8)}`,
      federated_credentials: [{ issuer: cluster, subject: sa, audience: `${s.config.publicUrl ?? s.url}/k8s`, jwks: { keys: [key.jwk] } }],
    });
    expect(res.status).toBe(201);
    expect(res.body.public_key).toBeNull();
    const before = issuer.fetches;
    const token = await signToken(key, { iss: cluster, sub: sa, aud: [`${s.config.publicUrl ?? s.url}/k8s`, 'https://kubernetes.default.svc'] });
    expect((await platformToken(res.body.id, token)).status).toBe(200);
    expectInvalidClient(await platformToken(res.body.id, await signToken(makeKey('EdDSA', key.kid), { iss: cluster, sub: sa, aud: `${s.config.publicUrl ?? s.url}/k8s` })));
    expect(issuer.fetches).toBe(before);
  });

  test('a credential written or changed straight in the database trusts nobody (rows are sealed under the master key)', async () => {
    const key = makeKey('EdDSA');
    const cluster = 'https://kubernetes.default.svc.cluster.local';
    const sa = 'system:serviceaccount:payments:sealed';
    const res = await admin(s).post('/v1/agents', { name: `sealed-${randomUUID().slice(0, 8)}`, federated_credentials: [{ issuer: cluster, subject: sa, jwks: { keys: [key.jwk] } }] });
    expect(res.status).toBe(201);
    const agentId = res.body.id as string;
    const token = (sub: string, k = key) => signToken(k, { iss: cluster, sub, aud: orgIssuer() });
    expect((await platformToken(agentId, await token(sa))).status).toBe(200);
    const knex = s.running.db.knex;
    const real = await knex('agent_federated_credentials').where({ agent_id: agentId }).first();
    // A writer's own workload, with a made-up seal or the real row's seal: refused.
    const attacker = makeKey('EdDSA');
    for (const seal of [randomBytes(32), Buffer.from(real.seal)]) {
      await knex('agent_federated_credentials').insert({
        id: randomUUID(), agent_id: agentId, organization_id: s.organizationId, issuer: 'https://attacker.example', subject: 'me', audience: orgIssuer(),
        claims: {}, jwks: { keys: [attacker.jwk] }, seal, created_at: new Date(), revoked_at: null,
      });
      expectInvalidClient(await platformToken(agentId, await signToken(attacker, { iss: 'https://attacker.example', sub: 'me', aud: orgIssuer() })));
    }
    // The real row with its subject changed: refused for the new subject, and for the old one too (the seal no longer verifies).
    await knex('agent_federated_credentials').where({ id: real.id }).update({ subject: 'system:serviceaccount:payments:other' });
    expectInvalidClient(await platformToken(agentId, await token('system:serviceaccount:payments:other')));
    expectInvalidClient(await platformToken(agentId, await token(sa)));
    await knex('agent_federated_credentials').where({ id: real.id }).update({ subject: sa });
    expect((await platformToken(agentId, await token(sa))).status).toBe(200);
  });

  test('a published key without a kid verifies tokens with or without one', async () => {
    const key = makeKey('PS256');
    const { kid: _kid, ...bare } = key.jwk;
    void _kid;
    const spire = 'https://spire.example.org';
    const spiffeId = 'spiffe://example.org/ns/payments/sa/deployer';
    const res = await admin(s).post('/v1/agents', { name: `spiffe-${randomUUID().slice(0, 8)}`, federated_credentials: [{ issuer: spire, subject: spiffeId, jwks: { keys: [bare] } }] });
    expect(res.status).toBe(201);
    // With the key's kid (signToken's default), and without any kid.
    for (const header of [{}, { kid: undefined }]) {
      const token = await signToken(key, { iss: spire, sub: spiffeId, aud: orgIssuer() }, { header });
      expect((await platformToken(res.body.id, token)).status).toBe(200);
    }
  });
});

describe('credentials: the invariant, the limit, roles, removal', () => {
  test('a keyed agent becomes secretless: add a credential, remove its key; the last credential stays (409)', async () => {
    const agent = await createAgent(s, { scopes: ['deploy:write'] });
    const kid = (await admin(s).get(`/v1/agents/${agent.id}/keys`)).body.data[0].kid;
    expect((await admin(s).del(`/v1/agents/${agent.id}/keys/${kid}`)).status).toBe(409);
    const added = await admin(s).post(`/v1/agents/${agent.id}/federated-credentials`, { issuer: issuer.url, subject: SUBJECT });
    expect(added.status).toBe(201);
    expect((await admin(s).post(`/v1/agents/${agent.id}/federated-credentials`, { issuer: issuer.url, subject: SUBJECT })).status).toBe(409);
    expect((await admin(s).del(`/v1/agents/${agent.id}/keys/${kid}`)).status).toBe(200);
    expect((await admin(s).get(`/v1/agents/${agent.id}`)).body.public_key).toBeNull();
    expect((await requestToken(s, agent)).status).toBe(401);
    expect((await platformToken(agent.id, await signToken(rsa, claims()))).status).toBe(200);
    const last = await admin(s).del(`/v1/agents/${agent.id}/federated-credentials/${added.body.id}`);
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe('conflict');
  });

  test('a removed credential is final at once: its platform token is refused, on every replica via the bus', async () => {
    const agent = await createSecretless();
    const [first] = (await admin(s).get(`/v1/agents/${agent.id}/federated-credentials`)).body.data;
    const second = await admin(s).post(`/v1/agents/${agent.id}/federated-credentials`, { issuer: issuer.url, subject: 'repo:acme/payments:environment:production' });
    expect(second.status).toBe(201);
    const heard = nextInvalidation(s, 'credentials of the agent', (e) => e.kind === 'credentials' && e.id === agent.id);
    const removed = await admin(s).del(`/v1/agents/${agent.id}/federated-credentials/${first.id}`);
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ id: first.id, status: 'revoked' });
    if (s.running.invalidations.crossProcess) await heard;
    expectInvalidClient(await platformToken(agent.id, await signToken(rsa, claims())));
    expect((await platformToken(agent.id, await signToken(rsa, claims({ sub: 'repo:acme/payments:environment:production' })))).status).toBe(200);
    // Removing it again is answered as a removed key is: 200, unchanged.
    expect((await admin(s).del(`/v1/agents/${agent.id}/federated-credentials/${first.id}`)).body.revoked_at).toBe(removed.body.revoked_at);
    expect((await admin(s).del(`/v1/agents/${agent.id}/federated-credentials/${randomUUID()}`)).status).toBe(404);
    const actions = (await admin(s).get(`/v1/audit-events?agent_id=${agent.id}`)).body.data.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['agent_federated_credential.created', 'agent_federated_credential.revoked']));
  });

  test('removing a credential while 8 parallel requests use it: no token with it once the DELETE returned', async () => {
    const agent = await createSecretless();
    const [cred] = (await admin(s).get(`/v1/agents/${agent.id}/federated-credentials`)).body.data;
    expect((await admin(s).post(`/v1/agents/${agent.id}/federated-credentials`, { issuer: issuer.url, subject: 'other' })).status).toBe(201);
    const token = await signToken(rsa, claims());
    const attempts: { afterDelete: boolean; status: number; iatMs?: number; jti?: string }[] = [];
    let deleted = false;
    let signalIssued!: () => void;
    const issued = new Promise<void>((resolve) => (signalIssued = resolve));
    const worker = async () => {
      for (let after = 0; after < 3;) {
        const afterDelete = deleted;
        const res = await platformToken(agent.id, token);
        const c = res.status === 200 ? decodePayload(res.body.access_token) : undefined;
        attempts.push({ afterDelete, status: res.status, iatMs: c?.iat_ms as number | undefined, jti: c?.jti as string | undefined });
        if (res.status === 200) signalIssued();
        if (afterDelete) after++;
      }
    };
    const workers = Array.from({ length: 8 }, () => worker());
    let removal: request.Response;
    try {
      await issued;
      removal = await admin(s).del(`/v1/agents/${agent.id}/federated-credentials/${cred.id}`);
    } finally {
      deleted = true;
    }
    await Promise.all(workers);
    expect(removal.status).toBe(200);
    for (const t of attempts.filter((a) => a.afterDelete)) expect([401, 429]).toContain(t.status);
    const succeeded = attempts.filter((a) => a.status === 200);
    for (const t of succeeded) expect(t.iatMs!).toBeLessThanOrEqual(Date.parse(removal.body.revoked_at));
    // The audit chain orders every issuance with the credential before its removal.
    await s.running.settleAuthAudit();
    const events = (await admin(s).get(`/v1/audit-events?agent_id=${agent.id}&limit=500`)).body.data as { seq: number; action: string; data: Record<string, unknown> }[];
    const removedAt = events.find((e) => e.action === 'agent_federated_credential.revoked')!.seq;
    const withIt = events.filter((e) => e.action === 'agent.authenticated' && e.data.credential_id === cred.id);
    expect(withIt.map((e) => e.data.token_jti).sort()).toEqual(succeeded.map((t) => t.jti).sort());
    expect(withIt.filter((e) => e.seq > removedAt)).toEqual([]);
  });

  test('at most 20 per agent: the 21st is 409, 21 at creation 400', async () => {
    const agent = await createSecretless();
    for (let i = 1; i < 20; i++) expect((await admin(s).post(`/v1/agents/${agent.id}/federated-credentials`, { issuer: issuer.url, subject: `${SUBJECT}-${i}` })).status).toBe(201);
    const over = await admin(s).post(`/v1/agents/${agent.id}/federated-credentials`, { issuer: issuer.url, subject: `${SUBJECT}-20` });
    expect(over.status).toBe(409);
    expect(over.body.error.details).toEqual([{ path: 'federated_credentials', message: 'at most 20 per agent' }]);
    const many = Array.from({ length: 21 }, (_, i) => ({ issuer: issuer.url, subject: `s-${i}` }));
    expect((await admin(s).post('/v1/agents', { name: `many-${randomUUID().slice(0, 8)}`, federated_credentials: many })).status).toBe(400);
  });

  test('roles as for keys: a reader lists, only an admin adds or removes', async () => {
    const agent = await createSecretless();
    const reader = await s.createApiKey('reader');
    const operator = await s.createApiKey('operator');
    expect((await admin(s, reader).get(`/v1/agents/${agent.id}/federated-credentials`)).status).toBe(200);
    expect((await admin(s, operator).post(`/v1/agents/${agent.id}/federated-credentials`, { issuer: issuer.url, subject: 'x' })).status).toBe(403);
    const [cred] = (await admin(s).get(`/v1/agents/${agent.id}/federated-credentials`)).body.data;
    expect((await admin(s, operator).del(`/v1/agents/${agent.id}/federated-credentials/${cred.id}`)).status).toBe(403);
  });

  test('bad input is a 400 listing every violation, and creates nothing', async () => {
    const bad = async (credential: Record<string, unknown>, path: string) => {
      const name = `bad-${randomUUID().slice(0, 8)}`;
      const res = await admin(s).post('/v1/agents', { name, federated_credentials: [{ subject: SUBJECT, ...credential }] });
      expect([JSON.stringify(credential), res.status]).toEqual([JSON.stringify(credential), 400]);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
      expect((await admin(s).get(`/v1/agents?name=${name}`)).body.data).toEqual([]);
    };
    const base = s.config.publicUrl ?? s.url;
    await bad({ issuer: 'http://issuer.example' }, 'federated_credentials.0.issuer');
    await bad({ issuer: 'https://user:pw@issuer.example' }, 'federated_credentials.0.issuer');
    await bad({ issuer: 'https://issuer.example/?tenant=1' }, 'federated_credentials.0.issuer');
    await bad({ issuer: 'https://issuer.example/#x' }, 'federated_credentials.0.issuer');
    await bad({ issuer: 'https://169.254.169.254' }, 'federated_credentials.0.issuer');
    await bad({ issuer: 'https://metadata.google.internal', jwks: { keys: [makeKey('EdDSA').jwk] } }, 'federated_credentials.0.issuer');
    await bad({ issuer: issuer.url, subject: '' }, 'federated_credentials.0.subject');
    await bad({ issuer: issuer.url, audience: 'sts.amazonaws.com' }, 'federated_credentials.0.audience');
    await bad({ issuer: issuer.url, audience: `${base}.evil.example` }, 'federated_credentials.0.audience');
    await bad({ issuer: issuer.url, claims: { sub: 'x' } }, 'federated_credentials.0.claims');
    const priv = { ...makeKey('EdDSA').privateKey.export({ format: 'jwk' }) };
    await bad({ issuer: issuer.url, jwks: { keys: [priv] } }, 'federated_credentials.0.jwks.keys.0');
    await bad({ issuer: issuer.url, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'federated_credentials.0.jwks.keys.0');
    await bad({ issuer: issuer.url, jwks: { keys: [{ ...makeKey('EdDSA').jwk, alg: 'HS256' }] } }, 'federated_credentials.0.jwks.keys.0');
    await bad({ issuer: issuer.url, jwks: { nokeys: true } }, 'federated_credentials.0.jwks.keys');
  });
});

describe('issuer keys, safely fetched', () => {
  test('an issuer that is down holds up only its own agents', async () => {
    const down = await SilentHost.start();
    try {
      const stuck = await createSecretless({ federated_credentials: [{ issuer: down.url, subject: SUBJECT }] });
      const fine = await createSecretless();
      let settled = false;
      const pending = platformToken(stuck.id, await signToken(rsa, claims({ iss: down.url }))).then((r) => {
        settled = true;
        return r;
      });
      await down.whenConnected(); // the control plane is waiting for the silent issuer
      expect((await platformToken(fine.id, await signToken(rsa, claims()))).status).toBe(200);
      expect(settled).toBe(false);
      down.release();
      expectInvalidClient(await pending);
    } finally {
      await down.close();
    }
  });

  test('50 unknown kids cause at most one refresh (discovery + JWKS) per 30 s', async () => {
    const agent = await createSecretless();
    expect((await platformToken(agent.id, await signToken(rsa, claims()))).status).toBe(200);
    afterRefreshInterval();
    const before = issuer.fetches;
    const forger = makeKey('EdDSA');
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(Array.from({ length: 10 }, async () => platformToken(agent.id, await signToken({ ...forger, kid: randomUUID() }, claims()))));
      // Refused, or throttled once the agent's failure budget is spent: never a token.
      for (const a of answers) expect([401, 429]).toContain(a.status);
    }
    // The first unknown kid after the interval refreshes once; the other 49 wait for the next interval.
    expect(issuer.fetches - before).toBe(2);
  });
});

describe('without CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS', () => {
  let plain: TestServer;
  beforeAll(async () => { plain = await startTestServer(); });
  afterAll(async () => plain?.close());

  test.each([
    ['loopback', 'https://127.0.0.1:8443'],
    ['localhost', 'https://localhost'],
    ['private', 'https://10.0.0.7'],
    ['link-local', 'https://169.254.10.10'],
    ['IPv6 link-local', 'https://[fe80::1]'],
    ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]'],
    ['cloud metadata', 'https://169.254.169.254'],
    ['plain http', 'http://issuer.example'],
  ])('an issuer on a %s address is refused (400)', async (_what, url) => {
    const res = await admin(plain).post('/v1/agents', { name: `p-${randomUUID().slice(0, 8)}`, federated_credentials: [{ issuer: url, subject: SUBJECT }] });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('federated_credentials.0.issuer');
  });

  test('a public issuer name is accepted; its addresses are checked when connecting', async () => {
    const res = await admin(plain).post('/v1/agents', { name: `p-${randomUUID().slice(0, 8)}`, federated_credentials: [{ issuer: 'https://token.actions.githubusercontent.com', subject: SUBJECT }] });
    expect(res.status).toBe(201);
  });
});

describe('the fetcher: addresses checked when connecting, redirects, size', () => {
  /** A resolver that answers `address` for every name (what a hostile DNS answer would do). */
  const resolvingTo = (address: string) => ((_host: string, _o: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) =>
    cb(null, [{ address, family: address.includes(':') ? 6 : 4 }])) as unknown as typeof dns.lookup;
  const named = () => issuer.url.replace('127.0.0.1', 'issuer.test');

  test('a name that resolves to loopback is refused without the setting, fetched with it', async () => {
    const url = `${named()}/keys`;
    await expect(jsonFetcher({ allowPrivateNetworks: false, ca: tls.ca, resolve: resolvingTo('127.0.0.1') })(url)).rejects.toThrow(/resolves to a loopback, private or link-local address/);
    await expect(jsonFetcher({ allowPrivateNetworks: true, ca: tls.ca, resolve: resolvingTo('127.0.0.1') })(url)).resolves.toHaveProperty('keys');
    await expect(jsonFetcher({ allowPrivateNetworks: true, ca: tls.ca, resolve: resolvingTo('169.254.169.254') })(url)).rejects.toThrow(/cloud metadata/);
  });

  test('every redirect is checked as the first URL is; documents are bounded', async () => {
    const fetch = jsonFetcher({ allowPrivateNetworks: true, ca: tls.ca });
    await expect(fetch(`${issuer.url}/redirect?to=${encodeURIComponent(`${issuer.url}/keys`)}`)).resolves.toHaveProperty('keys');
    await expect(fetch(`${issuer.url}/redirect?to=${encodeURIComponent('http://127.0.0.1/keys')}`)).rejects.toThrow(/not https/);
    await expect(fetch(`${issuer.url}/redirect?to=${encodeURIComponent('https://169.254.169.254/latest/meta-data/')}`)).rejects.toThrow(/cloud metadata/);
    await expect(fetch(`${issuer.url}/big`)).rejects.toThrow(/larger than/);
    // Without the test CA the issuer's certificate is not trusted.
    await expect(jsonFetcher({ allowPrivateNetworks: true })(`${issuer.url}/keys`)).rejects.toThrow(IssuerFetchError);
  });
});
