/**
 * One per-caller request limiter per process: an API key's budget (CERTUSORDO_RATE_LIMIT) is one
 * budget across every route, the /v1 admin routes and the auth module's (sessions, OAuth
 * introspection) alike — not one budget per composition root.
 */
import request from 'supertest';
import { startTestServer } from '../support/server';

test('a key that spent its burst on /v1/agents is refused on /v1/sessions and /v1/oauth/introspect too', async () => {
  const s = await startTestServer({ env: { CERTUSORDO_RATE_LIMIT: '1' } }); // burst of 2, then 1/s
  try {
    const auth = { Authorization: `Bearer ${s.apiKey}` };
    const first = await Promise.all([request(s.url).get('/v1/agents').set(auth), request(s.url).get('/v1/agents').set(auth)]);
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    const sessions = await request(s.url).get('/v1/sessions').set(auth);
    expect(sessions.status).toBe(429);
    expect(Number(sessions.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const introspection = await request(s.url).post('/v1/oauth/introspect').set(auth).type('form').send({ token: 'x' });
    expect(introspection.status).toBe(429);
    // Another key has its own budget.
    expect((await request(s.url).get('/v1/sessions').set('Authorization', `Bearer ${await s.createApiKey('reader')}`)).status).toBe(200);
  } finally {
    await s.close();
  }
});
