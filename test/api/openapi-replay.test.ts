/**
 * The served OpenAPI document tells the truth: a real server is driven through every route's
 * success and error paths, and each observed response must be documented — its status, and its
 * JSON body against that status's schema (ajv, JSON Schema 2020-12). The document itself must
 * validate (swagger-parser). An undocumented status or a body that does not match fails.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { assertion, ASSERTION_TYPE, createAgent, getToken, TestAgent } from '../auth/helpers';
import { openApiDocument } from '../../api/src/openapi';
import { controlPlaneRoutes } from '../../api/src/routes';

interface Observed {
  method: string;
  path: string;
  status: number;
  contentType: string;
  body: unknown;
}

type OpenApi = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
};

let s: TestServer;
const observed: Observed[] = [];
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

/** One call through supertest, recorded for the replay. */
async function call(method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, o: { key?: string | null; body?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {}) {
  let req = request(s.url)[method](path);
  const key = o.key === undefined ? s.apiKey : o.key;
  if (key) req = req.set('Authorization', `Bearer ${key}`);
  for (const [k, v] of Object.entries(o.headers ?? {})) req = req.set(k, v);
  const res = o.form ? await req.type('form').send(o.form) : o.body !== undefined ? await req.send(o.body as object) : await req;
  observed.push({ method, path: path.split('?')[0]!, status: res.status, contentType: String(res.headers['content-type'] ?? ''), body: res.body });
  return res;
}

function templateOf(doc: OpenApi, method: string, path: string): string | undefined {
  return Object.keys(doc.paths).find((t) => {
    if (!doc.paths[t]![method]) return false;
    const re = new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    return re.test(path);
  });
}

/** Every observed response that the document does not describe, as readable lines. */
function mismatches(doc: OpenApi, records: Observed[]): string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'openapi.json', components: doc.components }, 'openapi.json');
  const rewrite = (schema: unknown) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/'));
  const problems: string[] = [];
  for (const r of records) {
    const t = templateOf(doc, r.method, r.path);
    if (!t) {
      problems.push(`${r.method.toUpperCase()} ${r.path}: no such operation in the document`);
      continue;
    }
    const response = doc.paths[t]![r.method]!.responses[String(r.status)];
    if (!response) {
      problems.push(`${r.method.toUpperCase()} ${t} → ${r.status}: status not documented`);
      continue;
    }
    const json = response.content?.['application/json'];
    if (!r.contentType.startsWith('application/json')) continue; // e.g. an empty 200 of RFC 7009
    if (!json) {
      problems.push(`${r.method.toUpperCase()} ${t} → ${r.status}: JSON body not documented`);
      continue;
    }
    const validate = ajv.compile(rewrite(json.schema) as object);
    if (!validate(r.body)) problems.push(`${r.method.toUpperCase()} ${t} → ${r.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(r.body).slice(0, 300)}`);
  }
  return problems;
}

async function driveEveryRoute(): Promise<void> {
  const operator = await s.createApiKey('operator');
  const reader = await s.createApiKey('reader');
  const other = await s.createOrganization();

  // Health
  await call('get', '/', { key: null });
  await call('get', '/healthz', { key: null });
  await call('get', '/readyz', { key: null });

  // Agents
  const created = await call('post', '/v1/agents', { body: { name: 'replayed', scopes: ['payments:read'], metadata: { team: 'x' } }, headers: { 'Idempotency-Key': 'replay-1' } });
  await call('post', '/v1/agents', { body: { name: 'replayed', scopes: ['payments:read'], metadata: { team: 'x' } }, headers: { 'Idempotency-Key': 'replay-1' } }); // replay
  await call('post', '/v1/agents', { body: { name: 'other-body' }, headers: { 'Idempotency-Key': 'replay-1' } }); // 409
  await call('post', '/v1/agents', { body: { name: 'replayed' } }); // 409 name taken
  await call('post', '/v1/agents', { body: { name: '' } }); // 400
  await call('post', '/v1/agents', { key: null, body: { name: 'x' } }); // 401
  await call('post', '/v1/agents', { key: reader, body: { name: 'x' } }); // 403
  await call('post', '/v1/agents', { body: '{"name":', headers: { 'Content-Type': 'application/json' } }); // 400 malformed
  await call('post', '/v1/agents', { body: 'name=x', headers: { 'Content-Type': 'text/plain' } }); // 415
  await call('post', '/v1/agents', { body: { name: 'big', metadata: { k: 'x'.repeat(2_000_000) } } }); // 413
  const id = created.body.id as string;
  await call('get', '/v1/agents?limit=1');
  await call('get', '/v1/agents?limit=0');
  await call('get', `/v1/agents/${id}`);
  await call('get', '/v1/agents/00000000-0000-4000-8000-000000000000');
  await call('patch', `/v1/agents/${id}`, { body: { scopes: ['payments:read', 'payments:write'] } });
  await call('patch', `/v1/agents/${id}`, { body: { unknown: 1 } });
  await call('post', `/v1/agents/${id}/suspend`, { key: operator, body: { reason: 'replay' } });
  await call('post', `/v1/agents/${id}/activate`, { key: operator, body: {} }); // 403: reactivation is admin's
  await call('post', `/v1/agents/${id}/activate`, { body: {} });
  const keys = await call('get', `/v1/agents/${id}/keys`);
  const added = await call('post', `/v1/agents/${id}/keys`, { body: {} });
  await call('delete', `/v1/agents/${id}/keys/${added.body.kid}`);
  await call('delete', `/v1/agents/${id}/keys/${keys.body.data[0].kid}`); // 409: the last active key
  await call('delete', `/v1/agents/${id}/keys/nope`);

  // Agent authentication
  const agent: TestAgent = await createAgent(s);
  const token = await getToken(s, agent);
  await call('post', '/v1/oauth/token', { key: null, form: { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, agent) } });
  await call('post', '/v1/oauth/token', { key: null, form: { grant_type: 'password' } });
  await call('post', '/v1/oauth/token', { key: null, form: { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: 'a.b.c' } });
  await call('post', '/v1/oauth/token', { key: null, form: { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, agent), scope: 'admin:everything' } });
  await call('post', '/v1/oauth/introspect', { form: { token } });
  await call('post', '/v1/oauth/introspect', { form: { token: 'not-a-token' } });

  // Delegation: one grant, the exchange, a delegated token introspected and refused a session
  const actor: TestAgent = await createAgent(s);
  await call('get', `/v1/agents/${agent.id}/delegations/${actor.id}`); // 404
  await call('put', `/v1/agents/${agent.id}/delegations/${actor.id}`);
  await call('put', `/v1/agents/${agent.id}/delegations/00000000-0000-4000-8000-000000000000`); // 400 unknown actor
  await call('put', `/v1/agents/${agent.id}/delegations/${actor.id}`, { key: reader }); // 403
  await call('get', `/v1/agents/${agent.id}/delegations/${actor.id}`);
  await call('patch', `/v1/agents/${agent.id}`, { body: { may_act: [actor.id, agent.id] } }); // 400 itself
  const exchange = (subject_token: string) => ({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', client_assertion_type: ASSERTION_TYPE });
  const delegated = await call('post', '/v1/oauth/token', { key: null, form: { ...exchange(token), client_assertion: await assertion(s, actor) } });
  await call('post', '/v1/oauth/token', { key: null, form: { ...exchange(token), client_assertion: await assertion(s, agent) } }); // 400 not in may_act
  await call('post', '/v1/oauth/introspect', { form: { token: delegated.body.access_token } });
  await call('post', '/v1/sessions', { key: delegated.body.access_token, body: { scopes: ['payments:read'] } }); // 403
  await call('delete', `/v1/agents/${agent.id}/delegations/${actor.id}`);
  await call('delete', `/v1/agents/${agent.id}/delegations/${actor.id}`); // 404
  await call('post', '/v1/oauth/introspect', { key: null, form: { token } });
  const session = await call('post', '/v1/sessions', { key: token, body: { scopes: ['payments:read'], ttl_seconds: 600, max_operations: 5 } });
  await call('post', '/v1/sessions', { key: token, body: { scopes: ['payments:read'], ttl_seconds: -1 } });
  await call('post', '/v1/sessions', { key: null, body: { scopes: ['payments:read'] } });
  await call('get', '/v1/sessions?limit=5');
  await call('get', `/v1/sessions/${session.body.id}`);
  await call('get', '/v1/sessions/00000000-0000-4000-8000-000000000000');
  await call('post', `/v1/sessions/${session.body.id}/token`, { key: token });
  await call('post', `/v1/sessions/${session.body.id}/token`, { key: session.body.access_token }); // 403: a session token
  await call('post', '/v1/sessions/00000000-0000-4000-8000-000000000000/token', { key: token }); // 404
  await call('post', `/v1/sessions/${session.body.id}/operations`, { key: operator, body: { scope: 'payments:read' } });
  await call('post', `/v1/sessions/${session.body.id}/operations`, { key: operator, body: { scope: 'payments:write' } }); // 403 outside scope
  await call('delete', `/v1/sessions/${session.body.id}`, { key: operator });
  await call('post', '/v1/oauth/revoke', { key: null, form: { token } });
  await call('post', '/v1/oauth/revoke', { key: null, form: {} });
  await call('get', `/orgs/${s.organizationId}/.well-known/jwks.json`, { key: null });
  await call('get', `/.well-known/oauth-authorization-server/orgs/${s.organizationId}`, { key: null });
  await call('get', '/.well-known/oauth-authorization-server/orgs/00000000-0000-4000-8000-000000000000', { key: null });
  await call('get', '/v1/signing-keys', { key: reader });
  await call('post', '/v1/signing-keys/rotate', { body: { reason: 'replay' } });
  await call('post', '/v1/signing-keys/rotate', { key: operator, body: {} });

  // Transitions that end the agent
  await call('post', `/v1/agents/${id}/revoke`, { body: {} });
  await call('post', `/v1/agents/${id}/suspend`, { key: operator, body: {} }); // 409 invalid_transition

  // API keys
  const apiKey = await call('post', '/v1/api-keys', { body: { name: 'replay', role: 'reader' } });
  await call('post', '/v1/api-keys', { body: { name: 'replay', role: 'owner' } });
  await call('get', '/v1/api-keys');
  await call('get', '/v1/api-keys', { key: reader });
  await call('get', '/v1/api-keys/me', { key: reader });
  await call('get', '/v1/api-keys/names?id=00000000-0000-4000-8000-000000000000', { key: reader });
  await call('post', `/v1/api-keys/${apiKey.body.id}/revoke`);
  await call('post', '/v1/api-keys/00000000-0000-4000-8000-000000000000/revoke');
  await call('get', '/v1/agents', { key: 'aa_not_a_real_key' });
  await call('get', `/v1/agents/${id}`, { key: other.apiKey }); // another organization: 404

  // Audit
  const page = await call('get', '/v1/audit-events?limit=2');
  await call('get', `/v1/audit-events?limit=2&cursor=${page.body.next_cursor}`);
  await call('get', '/v1/audit-events?cursor=bogus');
  await call('get', '/v1/audit-events/checkpoint', { key: reader });
  await call('get', '/v1/audit-events/verify', { key: reader });
  await call('get', '/v1/audit-events/verify?full=true', { key: reader }); // 403: admin only
  await call('get', '/v1/no-such-route');
}

test('every response of every route is documented, with a body that matches its schema', async () => {
  await driveEveryRoute();
  const served = (await request(s.url).get('/v1/openapi.json')).body as OpenApi;
  await SwaggerParser.validate(structuredClone(served) as never);
  const statuses = new Set(observed.map((o) => o.status));
  for (const expected of [200, 201, 400, 401, 403, 404, 409, 413, 415]) expect(statuses).toContain(expected);
  expect(mismatches(served, observed.filter((o) => o.path !== '/v1/no-such-route'))).toEqual([]);

  // The served document is the route manifests' own, and nothing else.
  expect(served).toEqual(openApiDocument(controlPlaneRoutes, s.url));
  // A descriptor without its response schema makes the replay fail.
  const withoutSchema = controlPlaneRoutes.map((m) => ({
    ...m,
    routes: m.routes.map((r) => (r.method === 'get' && r.path === '/v1/agents/{id}' ? { ...r, responses: {} } : r)),
  }));
  expect(mismatches(openApiDocument(withoutSchema, s.url) as unknown as OpenApi, observed)).toEqual(
    expect.arrayContaining([expect.stringContaining('GET /v1/agents/{id} → 200: status not documented')]),
  );

  // The check can fail: drop one documented response and the replay notices.
  const broken = structuredClone(served);
  delete broken.paths['/v1/agents/{id}']!.get!.responses['200'];
  expect(mismatches(broken, observed)).toEqual(expect.arrayContaining([expect.stringContaining('GET /v1/agents/{id} → 200: status not documented')]));
  // …and a wrong schema too.
  const wrong = structuredClone(served);
  wrong.paths['/v1/api-keys/me']!.get!.responses['200']!.content!['application/json']!.schema = { type: 'object', required: ['nonexistent'] };
  expect(mismatches(wrong, observed).some((m) => m.startsWith('GET /v1/api-keys/me → 200'))).toBe(true);
});
