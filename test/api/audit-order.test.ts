/** Newest-first audit listing: order=desc pages backwards through seq, and cursors keep their order. */
import { startTestServer, TestServer } from '../support/server';
import { client, Client, expectError } from '../support/http';

let s: TestServer;
let api: Client;
beforeAll(async () => {
  s = await startTestServer();
  api = client(s.url, s.apiKey);
});
afterAll(async () => s?.close());

async function pages(query: string): Promise<{ seqs: number[]; cursors: string[] }> {
  const seqs: number[] = [];
  const cursors: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await api.get(`/v1/audit-events?${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    seqs.push(...(res.body.data as Array<{ seq: number }>).map((e) => Number(e.seq)));
    cursor = res.body.next_cursor;
    if (cursor) cursors.push(cursor);
  } while (cursor);
  return { seqs, cursors };
}

test('order=desc lists the same events newest first, page by page; asc stays the default', async () => {
  for (let i = 0; i < 7; i++) await api.post('/v1/agents', { name: `order-${i}` }).expect(201);
  const asc = await pages('limit=3');
  const desc = await pages('limit=3&order=desc');
  expect(asc.seqs.length).toBeGreaterThanOrEqual(7);
  expect(asc.seqs).toEqual([...asc.seqs].sort((a, b) => a - b));
  expect(desc.seqs).toEqual([...asc.seqs].reverse());
  expect(desc.cursors.length).toBeGreaterThan(1);

  // The newest page is one request, with filters applied.
  const newest = await api.get('/v1/audit-events?order=desc&limit=2&action=agent.created');
  expect(newest.body.data.map((e: { target_id: string }) => e.target_id)).toHaveLength(2);
  const names = await Promise.all(newest.body.data.map(async (e: { target_id: string }) => (await api.get(`/v1/agents/${e.target_id}`)).body.name));
  expect(names).toEqual(['order-6', 'order-5']);

  // A cursor made for one order is refused in the other instead of silently changing direction.
  expectError(await api.get(`/v1/audit-events?limit=3&cursor=${desc.cursors[0]}`), 400, 'validation_error');
  expectError(await api.get(`/v1/audit-events?limit=3&order=desc&cursor=${asc.cursors[0]}`), 400, 'validation_error');
  expectError(await api.get('/v1/audit-events?order=newest'), 400, 'validation_error');
});
