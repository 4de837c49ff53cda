/** Shared helpers for the auth suites: agents with real keys, jose-built assertions, token calls. */
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type KeyLike } from 'jose';
import request from 'supertest';
import type { TestServer } from '../support/server';
import type { InvalidationBus, InvalidationEvent } from '../../api/src/tokens/invalidation';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface TestAgent {
  id: string;
  secret: string;
  seed: Buffer;
  publicKey: string;
  kid?: string;
  scopes: string[];
}

export function seedFromSecret(secret: string): Buffer {
  const m = /^cos_([0-9a-f-]{36})_([A-Za-z0-9_-]{43})$/.exec(secret);
  if (!m) throw new Error('bad secret');
  return Buffer.from(m[2]!, 'base64url');
}

export async function privateJwk(seed: Buffer, publicKey: string): Promise<KeyLike | Uint8Array> {
  return importJWK({ kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: publicKey }, 'EdDSA');
}

export async function createAgent(s: TestServer, body: { name?: string; scopes?: string[] } = {}, apiKey = s.apiKey): Promise<TestAgent> {
  const res = await request(s.url).post('/v1/agents').set('Authorization', `Bearer ${apiKey}`)
    .send({ name: body.name ?? `agent-${randomUUID().slice(0, 8)}`, scopes: body.scopes ?? ['payments:read', 'payments:write', 'reports:*'] });
  if (res.status !== 201) throw new Error(`create agent: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, secret: res.body.secret, seed: seedFromSecret(res.body.secret), publicKey: res.body.public_key, scopes: res.body.scopes };
}

export interface AssertionOptions {
  seed?: Buffer;
  publicKey?: string;
  kid?: string | null;
  iss?: string;
  sub?: string;
  aud?: string | string[];
  jti?: string;
  iat?: number;
  exp?: number;
  alg?: string;
}

/** A client assertion built with jose (as any standard JOSE library would). */
export async function assertion(s: TestServer, agent: TestAgent, o: AssertionOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const key = await privateJwk(o.seed ?? agent.seed, o.publicKey ?? agent.publicKey);
  const header: { alg: string; typ: string; kid?: string } = { alg: o.alg ?? 'EdDSA', typ: 'JWT' };
  if (o.kid) header.kid = o.kid;
  return new SignJWT({ jti: o.jti ?? randomUUID() })
    .setProtectedHeader(header)
    .setIssuer(o.iss ?? agent.id)
    .setSubject(o.sub ?? agent.id)
    .setAudience(o.aud ?? `${s.config.publicUrl ?? s.url}/v1/oauth/token`)
    .setIssuedAt(o.iat ?? now)
    .setExpirationTime(o.exp ?? now + 60)
    .sign(key);
}

export function tokenRequest(s: TestServer, form: Record<string, string>) {
  return request(s.url).post('/v1/oauth/token').type('form').send(form);
}

export async function requestToken(s: TestServer, agent: TestAgent, extra: Record<string, string> = {}, o: AssertionOptions = {}) {
  return tokenRequest(s, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(s, agent, o), ...extra });
}

export async function getToken(s: TestServer, agent: TestAgent, scope?: string): Promise<string> {
  const res = await requestToken(s, agent, scope ? { scope } : {});
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

export async function introspect(url: string, apiKey: string, token: string): Promise<Record<string, unknown>> {
  const res = await request(url).post('/v1/oauth/introspect').set('Authorization', `Bearer ${apiKey}`).type('form').send({ token });
  if (res.status !== 200) throw new Error(`introspect: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export function admin(s: TestServer, apiKey = s.apiKey) {
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${apiKey}`);
  return {
    post: (path: string, body: object = {}) => auth(request(s.url).post(path)).send(body),
    patch: (path: string, body: object = {}) => auth(request(s.url).patch(path)).send(body),
    get: (path: string) => auth(request(s.url).get(path)),
    del: (path: string) => auth(request(s.url).delete(path)),
  };
}

/**
 * The first invalidation event on `s` that `match` accepts, from now on: call it before making the
 * change, await it after. The server's caches subscribed first, so they have applied the event
 * when this resolves ("this replica has heard of the change"). The timeout only bounds the wait:
 * a notification that never arrives fails the test with `what`.
 */
export function nextInvalidation(s: TestServer, what: string, match: (e: InvalidationEvent, bus: InvalidationBus) => boolean, timeoutMs = 10_000): Promise<InvalidationEvent> {
  const bus = s.running.invalidations;
  const heard = new Promise<InvalidationEvent>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no invalidation event within ${timeoutMs} ms: ${what}`));
    }, timeoutMs);
    timer.unref();
    const unsubscribe = bus.subscribe((e) => {
      if (!match(e, bus)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(e);
    });
  });
  // A test that fails before awaiting this must not leave an unhandled rejection behind.
  heard.catch(() => undefined);
  return heard;
}

export function decodePayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

export function decodeHeader(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8'));
}
