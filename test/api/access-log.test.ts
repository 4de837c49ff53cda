/** The access log names each request by the path the client sent, without the query, and no credential. */
import { startTestServer, TestServer } from '../support/server';
import { client } from '../support/http';

let s: TestServer;
const lines: Array<Record<string, unknown>> = [];
beforeAll(async () => {
  s = await startTestServer({ env: { LOG_LEVEL: 'info' }, logDestination: { write: (line) => void lines.push(JSON.parse(line)) } });
});
afterAll(async () => s?.close());

test('paths keep their /v1 prefix and drop the query string; keys and ids in queries stay out', async () => {
  const api = client(s.url, s.apiKey);
  const agent = (await api.post('/v1/agents', { name: 'logged' }).expect(201)).body;
  await api.get(`/v1/audit-events?agent_id=${agent.id}&limit=5`).expect(200);
  await api.get(`/v1/agents/${agent.id}`).expect(200);
  await api.get('/v1/no-such-route?x=1').expect(404);

  const requests = lines.filter((l) => l.msg === 'request');
  const paths = requests.map((l) => `${l.method as string} ${l.path as string} ${l.status as number}`);
  expect(paths).toEqual(
    expect.arrayContaining(['POST /v1/agents 201', 'GET /v1/audit-events 200', `GET /v1/agents/${agent.id} 200`, 'GET /v1/no-such-route 404']),
  );
  const all = JSON.stringify(lines);
  expect(all).not.toContain('limit=5');
  expect(all).not.toContain(s.apiKey);
  expect(all).not.toContain(s.apiKey.slice(3, 20));
});
