/**
 * Graceful shutdown for rolling restarts: from the start of a shutdown /readyz answers 503 while
 * requests are still served (each response closing its connection); only when the drain is over
 * does the listener close. The drain's wait is injected, so the test decides when it ends.
 */
import http from 'node:http';
import { startTestServer } from '../support/server';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    }).on('error', reject);
  });
}

test('drain: /readyz 503 and connections closed while still serving; then the listener closes', async () => {
  const s = await startTestServer();
  const auth = { authorization: `Bearer ${s.apiKey}` };
  expect((await get(`${s.url}/readyz`)).status).toBe(200);
  let endDrain!: () => void;
  let drainStarted!: (ms: number) => void;
  const asked = new Promise<number>((r) => (drainStarted = r));
  const stopped = s.running.shutdown({ drainMs: 5000, sleep: (ms) => (drainStarted(ms), new Promise<void>((r) => (endDrain = r))) });
  expect(await asked).toBe(5000);
  expect(s.running.draining).toBe(true);

  expect(await get(`${s.url}/readyz`)).toEqual({ status: 503, connection: 'close' });
  expect(await get(`${s.url}/v1/agents`, auth)).toEqual({ status: 200, connection: 'close' });

  endDrain();
  await stopped;
  await expect(get(`${s.url}/healthz`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});
