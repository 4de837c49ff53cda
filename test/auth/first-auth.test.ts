/** The first-authentication marker behind `never_authenticated`: written once, and lists follow it. */
import { startTestServer, TestServer } from '../support/server';
import { admin, createAgent, getToken } from './helpers';

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => s?.close());

test('first_auth_at is stamped by the first token only; never_authenticated lists the agent until then', async () => {
  const a = await createAgent(s, { name: 'first-auth-marker' });
  const never = async () => (await admin(s).get('/v1/agents?never_authenticated=true&limit=200')).body.data.map((x: { id: string }) => x.id);
  const row = async () => s.running.db.knex('agents').where({ id: a.id }).first('first_auth_at', 'last_auth_at');
  expect(await never()).toContain(a.id);
  expect(await row()).toEqual({ first_auth_at: null, last_auth_at: null });

  await getToken(s, a);
  const first = await row();
  expect(first.first_auth_at).toEqual(first.last_auth_at);
  expect(await never()).not.toContain(a.id);

  await getToken(s, a);
  const second = await row();
  expect(second.first_auth_at).toEqual(first.first_auth_at);
  expect(second.last_auth_at.getTime()).toBeGreaterThanOrEqual(first.last_auth_at.getTime());
});
