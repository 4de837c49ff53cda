/**
 * Hostile shapes and strings over the main endpoints: deep nesting, huge arrays, oversized bodies,
 * NUL, lone surrogates, RTL overrides, combining marks, overlong names, prototype-pollution keys,
 * numbers out of range, duplicate keys, bytes that are not UTF-8. Every request is built to be
 * refused (or, for introspection and revocation of a token that is not one, to answer as the RFCs
 * say): nothing may answer 5xx, every refusal has its route's stable error shape, the server logs
 * no error, and the organization's agents, API keys, sessions and audit log are the same after
 * as before. The cases come from a seeded generator, so a failure replays exactly.
 */
import http from 'node:http';
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { createAgent, getToken, TestAgent } from '../auth/helpers';
import { JSON_DEPTH_MAX } from '../../model/text';

const SEED = 0x24f022;
const RANDOM_CASES = 320;

/** mulberry32: a small deterministic generator, so the same seed gives the same cases. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON text written as it is (numbers out of range, deep nesting). */
class Raw {
  constructor(readonly text: string) {}
}
/** An object as entries, so a key may repeat. */
class Entries {
  constructor(readonly entries: ReadonlyArray<readonly [string, Value]>) {}
}
type Value = null | boolean | number | string | Raw | Entries | Value[];

/** JSON text of a value; JSON.stringify writes a lone surrogate as a `\u` escape, as a hostile client would. */
function json(v: Value): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Entries) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${json(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(json).join(',')}]`;
  return JSON.stringify(v);
}

/** Percent-encoding of a string's UTF-16 units as UTF-8, lone surrogates included (as CESU bytes: not UTF-8). */
function percent(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
    let bytes: number[];
    if (pair) {
      bytes = [...Buffer.from(s.slice(i, i + 2), 'utf8')];
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) bytes = [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)];
    else bytes = [...Buffer.from(s[i]!, 'utf8')];
    out += bytes.map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
  }
  return out;
}

const HOSTILE_STRINGS: readonly string[] = [
  'a\u0000b',
  '\u0000',
  'x\ud800y',
  'x\udc00',
  '\ud83d',
  'evil\u202egnp.exe',
  '\u202d\u202e\u2066\u2069',
  `e${'\u0301'.repeat(2000)}`,
  'a'.repeat(5000),
  '\ud83d\udc69\u200d\ud83d\udcbb'.repeat(400),
  '\ufeffname',
  '\u001b[2J\u001b[31mred\u001b[0m',
  '__proto__',
  'constructor',
  'prototype',
  "' OR 1=1 --",
  '../../etc/passwd',
  '%00',
  '',
  ' ',
];
const PROTO_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString', 'hasOwnProperty'];

/** A value that no string field accepts: a wrong type, a number out of range, nesting past the limit, a huge array. */
function hostileShape(r: () => number): Value {
  const pick = Math.floor(r() * 9);
  const depth = JSON_DEPTH_MAX + 1 + Math.floor(r() * 5000);
  switch (pick) {
    case 0: return new Raw('1e400');
    case 1: return new Raw('-1e400');
    case 2: return new Raw('123456789012345678901234567890e-400');
    case 3: return new Raw(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    case 4: return new Raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    case 5: return Array.from({ length: 5000 }, (_, i) => i);
    case 6: return new Entries(PROTO_KEYS.map((k) => [k, new Entries([['role', 'admin'], ['polluted', true]])] as const));
    case 7: return r() < 0.5 ? true : null;
    default: return new Raw('-0.0e-0');
  }
}

/** A string that breaks the text rule (always refused), or another hostile string (refused where the field has a grammar). */
function hostileString(r: () => number, breaksTextRule: boolean): string {
  if (breaksTextRule) return [`a\u0000b`, 'x\ud800y', 'x\udc00', '\u0000'][Math.floor(r() * 4)]!;
  return HOSTILE_STRINGS[Math.floor(r() * HOSTILE_STRINGS.length)]!;
}

/**
 * A body from a valid template with at least one change that makes it invalid: a field replaced by
 * a hostile shape, or by a string that breaks the text rule, or (strict schemas) an unknown key;
 * other fields may take any hostile string, and the invalid change may come as a repeated key after
 * a valid one.
 */
function hostileBody(r: () => number, template: Record<string, Value>, strict: boolean): Entries {
  const entries: Array<[string, Value]> = Object.entries(template).map(([k, v]) => [k, r() < 0.4 ? hostileString(r, false) : v]);
  const keys = Object.keys(template);
  const kind = Math.floor(r() * (strict ? 3 : 2));
  const field = keys[Math.floor(r() * keys.length)]!;
  const bad: [string, Value] =
    kind === 0 ? [field, hostileShape(r)] : kind === 1 ? [field, hostileString(r, true)] : [PROTO_KEYS[Math.floor(r() * PROTO_KEYS.length)]!, hostileShape(r)];
  if (r() < 0.3) entries.push(bad); // a repeated key: the last one is what JSON.parse keeps
  else {
    const at = entries.findIndex(([k]) => k === bad[0]);
    if (at >= 0) entries[at] = bad;
    else entries.splice(Math.floor(r() * (entries.length + 1)), 0, bad);
  }
  return new Entries(entries);
}

/** The same parameters as a form body, non-strings flattened to their JSON text. */
function formOf(body: Entries): string {
  return body.entries.map(([k, v]) => `${percent(k)}=${percent(typeof v === 'string' ? v : json(v))}`).join('&');
}

interface Answer {
  status: number;
  contentType: string;
  body: unknown;
}

/** Raw bytes, exactly as given (supertest would re-encode a lone surrogate). */
function send(s: TestServer, method: string, path: string, o: { bearer?: string; contentType?: string; body?: Buffer | string } = {}): Promise<Answer> {
  const body = o.body === undefined ? undefined : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body, 'utf8');
  const headers: Record<string, string | number> = {};
  if (o.bearer) headers.authorization = `Bearer ${o.bearer}`;
  if (body) {
    headers['content-type'] = o.contentType ?? 'application/json';
    headers['content-length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(new URL(path, s.url), { method, headers }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // kept as text: the assertion below names it
        }
        resolve({ status: res.statusCode!, contentType: String(res.headers['content-type'] ?? ''), body: parsed });
      });
    });
    // The server may answer (413) and close before reading an oversized body: the answer still
    // counts. A connection closed with no answer at all is reported as one (status 0), not waited for.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    req.on('close', () => {
      if (!answered) resolve({ status: 0, contentType: '', body: 'the connection closed without an answer' });
    });
    req.end(body);
  });
}

type Shape = 'api' | 'oauth';

interface Case {
  label: string;
  method: string;
  path: string;
  bearer?: string;
  contentType?: string;
  body?: Buffer | string;
  shape: Shape;
  /** The statuses that are right for this request (2xx only where the RFCs say so: introspection, revocation, reads). */
  allowed: (status: number) => boolean;
}

const refused = (status: number) => status >= 400 && status < 500;
const refusedOrOk = (status: number) => status === 200 || refused(status);

/** What is wrong with an answer, or null: a status the case does not allow, a body that is not JSON, an error without its shape. */
function fault(c: Case, a: Answer): string | null {
  const quote = () => `${c.label}: ${a.status} ${JSON.stringify(a.body).slice(0, 300)}`;
  if (!c.allowed(a.status)) return `status not allowed: ${quote()}`;
  if (!/^application\/json/.test(a.contentType)) return `not JSON (${a.contentType}): ${quote()}`;
  if (a.status < 400) return null;
  const body = a.body as Record<string, any>;
  const shaped = c.shape === 'api'
    ? typeof body?.error?.code === 'string' && typeof body?.error?.message === 'string' && Array.isArray(body?.error?.details) && typeof body?.request_id === 'string'
    : typeof body?.error === 'string' && typeof body?.error_description === 'string';
  return shaped ? null : `not the ${c.shape} error shape: ${quote()}`;
}

let s: TestServer;
let agent: TestAgent;
let agentToken: string;
let sessionId: string;
let apiKeyId: string;
const errorLines: string[] = [];

beforeAll(async () => {
  s = await startTestServer({
    // One budget per key would turn the later cases into 429s and hide what they test.
    env: { CERTUSORDO_RATE_LIMIT: '100000', LOG_LEVEL: 'error' },
    logDestination: { write: (line: string) => void errorLines.push(line) },
  });
  agent = await createAgent(s, { name: 'fuzz-agent', scopes: ['fuzz:read', 'fuzz:write'] });
  agentToken = await getToken(s, agent);
  const session = await request(s.url).post('/v1/sessions').set('Authorization', `Bearer ${agentToken}`).send({ scopes: ['fuzz:read'], ttl_seconds: 3600 });
  expect(session.status).toBe(201);
  sessionId = session.body.id;
  const apiKeys = await request(s.url).get('/v1/api-keys').set('Authorization', `Bearer ${s.apiKey}`);
  apiKeyId = apiKeys.body.data[0].id;
});
afterAll(async () => s?.close());

/** Everything a hostile request could change: agents (and their keys), API keys, sessions, the audit log's head. */
async function snapshot(): Promise<unknown> {
  const get = async (path: string) => {
    const res = await request(s.url).get(path).set('Authorization', `Bearer ${s.apiKey}`);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    return res.body;
  };
  return {
    agents: await get('/v1/agents?limit=200'),
    keys: await get(`/v1/agents/${agent.id}/keys`),
    apiKeys: await get('/v1/api-keys'),
    sessions: await get('/v1/sessions?limit=200'),
    auditHead: (await get('/v1/audit-events?order=desc&limit=1')).data,
  };
}

/** The endpoints, each with a valid template its hostile bodies start from. */
function endpoints(): Array<{ method: string; path: string; bearer: string; template: Record<string, Value>; strict: boolean; shape: Shape; form: boolean; allowed: (n: number) => boolean }> {
  const admin = s.apiKey;
  const rest = { strict: true, shape: 'api' as const, form: false, allowed: refused };
  const oauth = { strict: false, shape: 'oauth' as const, form: true };
  return [
    { ...rest, method: 'POST', path: '/v1/agents', bearer: admin, template: { name: 'fuzz-new', scopes: ['fuzz:read'], metadata: new Entries([['team', 'x']]) } },
    { ...rest, method: 'PATCH', path: `/v1/agents/${agent.id}`, bearer: admin, template: { name: 'fuzz-renamed', scopes: ['fuzz:read'], metadata: new Entries([['team', 'y']]) } },
    { ...rest, method: 'POST', path: `/v1/agents/${agent.id}/suspend`, bearer: admin, template: { reason: 'fuzz' } },
    { ...rest, method: 'POST', path: `/v1/agents/${agent.id}/revoke`, bearer: admin, template: { reason: 'fuzz' } },
    { ...rest, method: 'POST', path: `/v1/agents/${agent.id}/keys`, bearer: admin, template: { public_key: agent.publicKey } },
    { ...rest, method: 'POST', path: '/v1/api-keys', bearer: admin, template: { name: 'fuzz-key', role: 'reader' } },
    { ...rest, method: 'POST', path: `/v1/api-keys/${apiKeyId}/revoke`, bearer: admin, template: { reason: 'fuzz' } },
    { ...rest, method: 'POST', path: '/v1/sessions', bearer: agentToken, template: { scopes: ['fuzz:read'], ttl_seconds: 60, max_operations: 5, purpose: 'fuzz' } },
    { ...rest, method: 'POST', path: `/v1/sessions/${sessionId}/operations`, bearer: admin, template: { scope: 'fuzz:read', description: 'fuzz' } },
    // Nobody's assertion: a refused client authentication names no real agent, so it writes nothing.
    { ...oauth, method: 'POST', path: '/v1/oauth/token', bearer: '', allowed: refused,
      template: { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'eyJhbGciOiJFZERTQSJ9.e30.AA', client_id: 'ag_nobody' } },
    // Not a token: introspection answers `active: false`, revocation 200 (RFC 7662, RFC 7009).
    { ...oauth, method: 'POST', path: '/v1/oauth/introspect', bearer: admin, allowed: refusedOrOk, template: { token: 'not-a-token', token_type_hint: 'access_token' } },
    { ...oauth, method: 'POST', path: '/v1/oauth/revoke', bearer: admin, allowed: refusedOrOk, template: { token: 'not-a-token', token_type_hint: 'access_token' } },
  ];
}

function randomCases(): Case[] {
  const r = rng(SEED);
  const list = endpoints();
  const out: Case[] = [];
  for (let i = 0; i < RANDOM_CASES; i++) {
    const e = list[i % list.length]!;
    const body = hostileBody(r, e.template, e.strict);
    const asForm = e.form && r() < 0.5;
    out.push({
      label: `#${i} ${e.method} ${e.path.replace(/[0-9a-f-]{36}/g, '{id}')} ${asForm ? 'form' : 'json'}`,
      method: e.method,
      path: e.path,
      bearer: e.bearer || undefined,
      contentType: asForm ? 'application/x-www-form-urlencoded' : 'application/json',
      body: asForm ? formOf(body) : json(body),
      shape: e.shape,
      allowed: e.allowed,
    });
  }
  return out;
}

/** Hostile paths and queries on the reads and on the routes that take an id. */
function pathCases(): Case[] {
  const r = rng(SEED ^ 0x5a5a);
  const out: Case[] = [];
  for (let i = 0; i < 40; i++) {
    // Bounded so the request line stays under Node's header limit (past it Node itself answers 431, before any route).
    const bad = percent(hostileString(r, i % 2 === 0).slice(0, 600));
    const routes: Array<[string, string, (n: number) => boolean]> = [
      ['GET', `/v1/agents/${bad}`, refused],
      ['GET', `/v1/agents?name_prefix=${bad}`, refusedOrOk],
      ['GET', `/v1/agents?status=${bad}&limit=${bad}`, refused],
      ['DELETE', `/v1/agents/${agent.id}/keys/${bad}`, refused],
      ['GET', `/v1/sessions?agent_id=${bad}`, refusedOrOk],
      ['GET', `/v1/audit-events?action=${bad}&cursor=${bad}`, refusedOrOk],
      ['POST', `/v1/api-keys/${bad}/revoke`, refused],
    ];
    const [method, path, allowed] = routes[i % routes.length]!;
    out.push({ label: `path #${i} ${method} ${path.slice(0, 80)}`, method, path, bearer: s.apiKey, shape: 'api', allowed });
  }
  return out;
}

/** The shapes the issue names, each once: nesting from the edge of the limit up, and bodies over the size limit. */
function fixedCases(): Case[] {
  const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  const deepArray = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  const fiveMb = `{"name":"${'a'.repeat(5 * 1024 * 1024)}"}`;
  const agentsPost = { method: 'POST', path: '/v1/agents', shape: 'api' as const, allowed: refused };
  return [
    { ...agentsPost, label: '{"a": × 5000, unauthenticated', body: deepObject(5000) },
    { ...agentsPost, label: '{"a": × 5000', bearer: s.apiKey, body: deepObject(5000) },
    { ...agentsPost, label: '~60 KB of [[[…]]]', bearer: s.apiKey, body: deepArray(30_000) },
    { ...agentsPost, label: `nested ${JSON_DEPTH_MAX + 1} levels`, bearer: s.apiKey, body: `{"name":"x","metadata":${deepObject(JSON_DEPTH_MAX)}}` },
    { ...agentsPost, label: '5 MB body', bearer: s.apiKey, body: fiveMb },
    { ...agentsPost, label: 'not UTF-8', bearer: s.apiKey, body: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    { ...agentsPost, label: 'a huge array of names', bearer: s.apiKey, body: json(new Entries([['name', 'x'], ['scopes', Array.from({ length: 6000 }, (_, i) => `a:b${i}`)]])) },
    { ...agentsPost, label: 'truncated JSON', bearer: s.apiKey, body: '{"name":"x"' },
    { method: 'POST', path: '/v1/oauth/token', shape: 'oauth', allowed: refused, label: 'token: {"a": × 5000', body: deepObject(5000) },
    { method: 'POST', path: '/v1/oauth/token', shape: 'oauth', allowed: refused, label: 'token: 5 MB form', contentType: 'application/x-www-form-urlencoded', body: `grant_type=${'a'.repeat(5 * 1024 * 1024)}` },
    { method: 'POST', path: '/v1/oauth/token', shape: 'oauth', allowed: refused, label: 'token: one parameter repeated 8000 times', contentType: 'application/x-www-form-urlencoded', body: Array(8000).fill('scope=a').join('&') },
    { method: 'POST', path: '/v1/oauth/introspect', shape: 'oauth', allowed: refused, label: 'introspect: ~60 KB of [[[…]]]', bearer: s.apiKey, body: deepArray(30_000) },
    { method: 'POST', path: '/v1/oauth/revoke', shape: 'oauth', allowed: refused, label: 'revoke: {"a": × 5000', bearer: s.apiKey, body: deepObject(5000) },
    { method: 'POST', path: '/v1/sessions', shape: 'api', allowed: refused, label: 'sessions: {"a": × 5000', bearer: agentToken, body: deepObject(5000) },
    { method: 'PATCH', path: `/v1/agents/${agent.id}`, shape: 'api', allowed: refused, label: 'patch: duplicate keys, the last one NUL', bearer: s.apiKey, body: '{"name":"ok-name","name":"a\\u0000b"}' },
  ];
}

test('nesting up to the limit is read; one level more is a 400 that says so', async () => {
  const nest = (n: number) => `${'{"a":'.repeat(n - 1)}"v"${'}'.repeat(n - 1)}`;
  // The body is level 1, so metadata nested JSON_DEPTH_MAX - 1 objects deep reaches the limit
  // exactly: it is read, and refused by the schema (metadata values are strings), not by the depth check.
  const atLimit = await send(s, 'POST', '/v1/agents', { bearer: s.apiKey, body: `{"name":"depth-ok","metadata":${nest(JSON_DEPTH_MAX)}}` });
  expect(atLimit.status).toBe(400);
  expect(JSON.stringify(atLimit.body)).not.toMatch(/nested/);
  const over = await send(s, 'POST', '/v1/agents', { bearer: s.apiKey, body: `{"name":"depth-over","metadata":${nest(JSON_DEPTH_MAX + 1)}}` });
  expect(over.status).toBe(400);
  const err = (over.body as { error: { code: string; message: string; details: Array<{ path: string }> } }).error;
  expect(err.code).toBe('validation_error');
  expect(err.message).toBe(`The request body is nested too deeply: ${err.details[0]!.path} is nested deeper than ${JSON_DEPTH_MAX} levels (the limit: arrays and objects nested at most ${JSON_DEPTH_MAX} levels deep)`);
  expect(err.details[0]!.path).toBe(['metadata', ...Array(JSON_DEPTH_MAX - 1).fill('a')].join('.'));
});

test('hostile shapes and strings: no 5xx, the stable error shape, no error logged, nothing changed', async () => {
  const before = await snapshot();
  const cases = [...fixedCases(), ...pathCases(), ...randomCases()];
  const faults: string[] = [];
  for (const c of cases) {
    const f = fault(c, await send(s, c.method, c.path, c));
    if (f) faults.push(f);
  }
  expect(faults).toEqual([]);
  expect(errorLines).toEqual([]);
  expect(await snapshot()).toEqual(before);
  // The agent and its token still work: nothing hostile locked it out or altered it.
  const res = await request(s.url).get(`/v1/sessions/${sessionId}`).set('Authorization', `Bearer ${agentToken}`);
  expect(res.status).toBe(200);
});
