/**
 * The text rule on every string field: U+0000 and unpaired surrogates are a 400 that names the
 * field, and nothing is stored altered; bytes that are not UTF-8 are refused, never replaced.
 * Bodies are sent as raw JSON text with `\u` escapes: a JS string with a lone surrogate would be
 * re-encoded (as U+FFFD) by the client before it ever reached the server.
 */
import http from 'node:http';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { expectError } from '../support/http';
import { ASSERTION_TYPE, assertion, createAgent, getToken, TestAgent } from '../auth/helpers';

const NUL = '\\u0000';
const LONE = '\\ud800';
const BAD = [
  ['U+0000', `a${NUL}b`],
  ['a lone high surrogate', `x${LONE}y`],
  ['a lone low surrogate', 'x\\udc00y'],
] as const;

let s: TestServer;
let agent: TestAgent;
beforeAll(async () => {
  s = await startTestServer();
  agent = await createAgent(s, { name: 'strings-agent', scopes: ['payments:read', 'payments:write'] });
});
afterAll(async () => s?.close());

const auth = (t: request.Test, key = s.apiKey) => t.set('Authorization', `Bearer ${key}`);
/** A raw JSON body (the text is sent as it is). */
const raw = (t: request.Test, json: string) => t.set('Content-Type', 'application/json').send(json);

/** Raw bytes, exactly as given (supertest would serialize a Buffer as JSON). */
function sendBytes(path: string, contentType: string, body: Buffer, key: string | null = s.apiKey): Promise<{ status: number; body: any }> {
  const url = new URL(path, s.url);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': contentType, 'content-length': body.length, ...(key ? { authorization: `Bearer ${key}` } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function expectField(res: request.Response, path: string): void {
  expectError(res, 400, 'validation_error');
  expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
}

describe.each(BAD)('%s', (_label, bad) => {
  test('agent name, scopes, metadata keys and values: 400 naming the field, nothing created', async () => {
    const post = (json: string) => raw(auth(request(s.url).post('/v1/agents')), json);
    expectField(await post(`{"name":"${bad}"}`), 'name');
    expectField(await post(`{"name":"ok-scopes","scopes":["payments:read","${bad}"]}`), 'scopes.1');
    expectField(await post(`{"name":"ok-meta-value","metadata":{"team":"${bad}"}}`), 'metadata.team');
    const keyRes = await post(`{"name":"ok-meta-key","metadata":{"${bad}":"v"}}`);
    expectError(keyRes, 400, 'validation_error');
    expect(keyRes.body.error.details[0].path).toMatch(/^metadata\.[ax]\\u(0000|d800|dc00)[by]$/);
    const list = await auth(request(s.url).get('/v1/agents?name_prefix=ok-'));
    expect(list.body.data).toEqual([]);
  });

  test('PATCH metadata and transition reasons: 400, the agent and its audit log unchanged', async () => {
    const a = await createAgent(s, { name: `reasons-${Math.random().toString(36).slice(2, 8)}` });
    expectField(await raw(auth(request(s.url).patch(`/v1/agents/${a.id}`)), `{"metadata":{"k":"${bad}"}}`), 'metadata.k');
    expectField(await raw(auth(request(s.url).post(`/v1/agents/${a.id}/suspend`)), `{"reason":"${bad}"}`), 'reason');
    const got = await auth(request(s.url).get(`/v1/agents/${a.id}`));
    expect(got.body).toMatchObject({ status: 'active', metadata: {} });
    const events = await auth(request(s.url).get(`/v1/audit-events?agent_id=${a.id}`));
    expect(events.status).toBe(200);
    expect(events.body.data.map((e: { action: string }) => e.action)).toEqual(['agent.created']);
  });

  test('API-key names: 400 naming `name`', async () => {
    expectField(await raw(auth(request(s.url).post('/v1/api-keys')), `{"name":"${bad}","role":"reader"}`), 'name');
  });

  test('session purposes and operation descriptions: 400 naming the field', async () => {
    const token = await getToken(s, agent);
    const open = await raw(request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`), `{"scopes":["payments:read"],"purpose":"${bad}"}`);
    expectField(open, 'purpose');
    const session = await request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ scopes: ['payments:read'] });
    expect(session.status).toBe(201);
    const op = await raw(auth(request(s.url).post(`/v1/sessions/${session.body.id}/operations`)), `{"scope":"payments:read","description":"${bad}"}`);
    expectField(op, 'description');
    expect((await auth(request(s.url).get(`/v1/sessions/${session.body.id}`))).body.operations_used).toBe(0);
  });
});

describe('query values', () => {
  test.each([
    ['/v1/agents', 'name', '%00'],
    ['/v1/agents', 'name_prefix', 'a%00'],
    ['/v1/audit-events', 'action', 'agent.created%00'],
    ['/v1/sessions', 'agent_id', '%00'],
  ])('%s?%s=%s: 400 naming the parameter', async (path, name, value) => {
    expectField(await auth(request(s.url).get(`${path}?${name}=${value}`)), name);
  });

  test('a percent-encoded surrogate or other non-UTF-8 sequence is refused, not replaced', async () => {
    expectField(await auth(request(s.url).get('/v1/agents?name=%ED%A0%80')), 'name');
    expectField(await auth(request(s.url).get('/v1/agents?name_prefix=%FF')), 'name_prefix');
  });
});

describe('bytes that are not UTF-8', () => {
  test('a JSON body with invalid UTF-8 is a 400, not stored with U+FFFD', async () => {
    const body = Buffer.concat([Buffer.from('{"name":"utf8-check","metadata":{"k":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    const res = await sendBytes('/v1/agents', 'application/json', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.message).toMatch(/UTF-8/);
    expect((await auth(request(s.url).get('/v1/agents?name=utf8-check'))).body.data).toEqual([]);
  });

  test('a JSON body in another charset is refused', async () => {
    const res = await sendBytes('/v1/agents', 'application/json; charset=utf-16le', Buffer.from('{"name":"x"}', 'utf16le'));
    expect(res.status).toBe(415);
  });

  test('valid text outside the BMP (a proper surrogate pair) is accepted and read back unchanged', async () => {
    const res = await raw(auth(request(s.url).post('/v1/agents')), '{"name":"emoji-ok","metadata":{"note":"caf\\u00e9 \\ud83d\\ude80"}}');
    expect(res.status).toBe(201);
    expect(res.body.metadata.note).toBe('café 🚀');
    expect((await auth(request(s.url).get(`/v1/agents/${res.body.id}`))).body.metadata.note).toBe('café 🚀');
  });
});

describe('OAuth parameters', () => {
  test('form values with U+0000 or non-UTF-8 sequences: invalid_request naming the parameter', async () => {
    const good = { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, agent) };
    const form = (extra: string) => request(s.url).post('/v1/oauth/token').type('form').send(`${new URLSearchParams(good).toString()}&${extra}`);
    for (const [extra, name] of [['scope=payments%3Aread%00', 'scope'], ['scope=%ED%A0%80', 'scope'], ['scope=%FF', 'scope']] as const) {
      const res = await form(extra);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description).toContain(name);
    }
    // The same request without the bad parameter works (the refusal was the text, not the request).
    expect((await form('scope=payments%3Aread')).status).toBe(200);
  });

  test('JSON bodies with a lone surrogate, and raw bytes that are not UTF-8, are refused', async () => {
    const token = await getToken(s, agent);
    const json = await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${s.apiKey}`)
      .set('Content-Type', 'application/json').send(`{"token":"${token}","token_type_hint":"access${LONE}"}`);
    expect(json.status).toBe(400);
    expect(json.body).toMatchObject({ error: 'invalid_request' });
    expect(json.body.error_description).toContain('token_type_hint');
    const bytes = await sendBytes('/v1/oauth/revoke', 'application/x-www-form-urlencoded', Buffer.concat([Buffer.from(`token=${token}&token_type_hint=`), Buffer.from([0xc3, 0x28])]), null);
    expect(bytes.status).toBe(400);
    expect(bytes.body).toMatchObject({ error: 'invalid_request' });
    // The token was not revoked by the refused request.
    const active = await request(s.url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${s.apiKey}`).type('form').send({ token });
    expect(active.body.active).toBe(true);
  });
});

describe('the model rule (shared with the SDK, constructs and provider)', () => {
  test('textViolations and metadataViolations refuse U+0000 and lone surrogates, accept proper pairs', async () => {
    const { textViolations, jsonTextViolations } = await import('../../model/text');
    const { metadataViolations } = await import('../../model/agent');
    expect(textViolations('a\u0000b', 'reason')).toEqual(['reason must not contain U+0000 (NUL)']);
    expect(textViolations('x\ud800y')).toHaveLength(1);
    expect(textViolations('x\udc00')).toHaveLength(1);
    expect(textViolations('café 🚀')).toEqual([]);
    expect(metadataViolations({ team: 'a\u0000' }).join()).toMatch(/metadata value for "team" must not contain U\+0000/);
    expect(metadataViolations({ 'k\ud800': 'v' }).join()).toMatch(/metadata key "k\\ud800" must not contain an unpaired/);
    expect(jsonTextViolations({ a: [{ b: 'ok' }, { c: '\u0000' }] }).map((v) => v.path)).toEqual(['a.1.c']);
  });
});
