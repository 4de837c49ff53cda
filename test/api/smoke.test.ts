import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => { await s?.close(); });

test('create and get an agent', async () => {
  const created = await request(s.url).post('/v1/agents').set('Authorization', `Bearer ${s.apiKey}`).send({ name: 'payment-processor', scopes: ['payments:read'] });
  expect(created.status).toBe(201);
  expect(created.body.secret).toMatch(/^cos_/);
  const got = await request(s.url).get(`/v1/agents/${created.body.id}`).set('Authorization', `Bearer ${s.apiKey}`);
  expect(got.status).toBe(200);
  expect(got.body.secret).toBeUndefined();
});
