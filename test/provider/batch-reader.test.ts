/**
 * Batched agent reads: the batcher's scheduling (a manual scheduler decides when batches leave, so
 * nothing sleeps), and RestClient.findAgent coalescing concurrent reads into `GET /v1/agents?id=…`
 * against the real control plane, with requests counted on the wire.
 */
import { BatchReader } from '../../provider-bridge/src/client/batch-reader';
import { MAX_IDS_PER_LIST, RestClient } from '../../provider-bridge/src/client/rest-client';
import { nodeFetch } from '../../provider-bridge/src/client/node-fetch';
import { AuthenticationError } from '../../sdk/src/core/errors';
import type { Fetch } from '../../sdk/src/core/fetch';
import { startTestServer, type TestServer } from '../support/server';

/** A scheduler that runs flushes only when the test says so. */
function manualScheduler(): { schedule: (f: () => void) => void; run(): void; readonly waiting: number } {
  const queue: (() => void)[] = [];
  return {
    schedule: (f) => void queue.push(f),
    run: () => {
      for (const f of queue.splice(0)) f();
    },
    get waiting() {
      return queue.length;
    },
  };
}

/** A load function whose calls the test answers one by one. */
function controlledLoad(): {
  load: (ids: readonly string[]) => Promise<ReadonlyMap<string, string>>;
  calls: { ids: readonly string[]; answer(found: string[]): void; fail(err: Error): void }[];
} {
  const calls: { ids: readonly string[]; answer(found: string[]): void; fail(err: Error): void }[] = [];
  return {
    calls,
    load: (ids) =>
      new Promise((resolve, reject) => {
        calls.push({ ids, answer: (found) => resolve(new Map(found.map((id) => [id, `agent:${id}`]))), fail: reject });
      }),
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('BatchReader', () => {
  it('sends the reads of one turn as one batch, and missing ids come back as null', async () => {
    const sched = manualScheduler();
    const { load, calls } = controlledLoad();
    const reader = new BatchReader({ load, maxBatch: 200, schedule: sched.schedule });
    const results = ['a', 'b', 'c'].map((id) => reader.get(id));
    expect(calls).toHaveLength(0); // nothing leaves before the scheduled flush
    expect(sched.waiting).toBe(1); // one flush for three reads
    sched.run();
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b', 'c']]);
    calls[0]!.answer(['a', 'c']);
    expect(await Promise.all(results)).toEqual(['agent:a', null, 'agent:c']);
  });

  it('queues reads while a batch is in flight and sends them together when it returns', async () => {
    const sched = manualScheduler();
    const { load, calls } = controlledLoad();
    const reader = new BatchReader({ load, maxBatch: 200, maxInFlight: 1, schedule: sched.schedule });
    const first = reader.get('a');
    sched.run();
    const later = ['b', 'c', 'd'].map((id) => reader.get(id));
    expect(sched.waiting).toBe(0); // the one batch allowed is out; the rest wait for it
    expect(reader.queued).toBe(3);
    calls[0]!.answer(['a']);
    expect(await first).toBe('agent:a');
    await tick();
    expect(sched.waiting).toBe(1);
    sched.run();
    expect(calls.map((c) => c.ids)).toEqual([['a'], ['b', 'c', 'd']]);
    calls[1]!.answer(['b', 'c', 'd']);
    expect(await Promise.all(later)).toEqual(['agent:b', 'agent:c', 'agent:d']);
  });

  it('splits at maxBatch and shares one slot between concurrent reads of the same id', async () => {
    const sched = manualScheduler();
    const { load, calls } = controlledLoad();
    const reader = new BatchReader({ load, maxBatch: 2, maxInFlight: 3, schedule: sched.schedule });
    const results = ['a', 'b', 'a', 'c', 'd', 'e'].map((id) => reader.get(id));
    sched.run();
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    for (const c of calls) c.answer([...c.ids]);
    expect(await Promise.all(results)).toEqual(['agent:a', 'agent:b', 'agent:a', 'agent:c', 'agent:d', 'agent:e']);
  });

  it('rejects every read of a failed batch with its error, and later reads still work', async () => {
    const sched = manualScheduler();
    const { load, calls } = controlledLoad();
    const reader = new BatchReader({ load, maxBatch: 200, schedule: sched.schedule });
    const failed = [reader.get('a'), reader.get('b')];
    sched.run();
    const boom = new Error('control plane down');
    calls[0]!.fail(boom);
    for (const p of failed) await expect(p).rejects.toBe(boom);
    await tick();
    const next = reader.get('c');
    sched.run();
    calls[1]!.answer(['c']);
    expect(await next).toBe('agent:c');
  });

  it('turns a load that throws synchronously into rejected reads', async () => {
    const sched = manualScheduler();
    const reader = new BatchReader<string>({
      load: () => {
        throw new Error('sync');
      },
      maxBatch: 200,
      schedule: sched.schedule,
    });
    const p = reader.get('a');
    sched.run();
    await expect(p).rejects.toThrow('sync');
  });
});

describe('RestClient.findAgent against the control plane', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  /** The provider's real fetch, recording each request's method, path and ids. */
  function counting(real: Fetch = nodeFetch()): { transport: Fetch; requests: { method: string; path: string; ids: string[] }[] } {
    const requests: { method: string; path: string; ids: string[] }[] = [];
    return {
      requests,
      transport: (href, init) => {
        const url = new URL(href);
        requests.push({ method: init.method, path: url.pathname, ids: url.searchParams.getAll('id') });
        return real(href, init);
      },
    };
  }

  it('coalesces concurrent reads into one list request; gone, unknown and malformed ids are null', async () => {
    const admin = new RestClient({ endpoint: server.url, apiKey: server.apiKey });
    const agents = [];
    for (let i = 0; i < 30; i++) agents.push(await admin.createAgent({ name: `batch-${i}`, metadata: { i: String(i) } }));
    await admin.revokeAgent(agents[5]!.id);
    const other = await server.createOrganization();
    const theirs = await new RestClient({ endpoint: server.url, apiKey: other.apiKey }).createAgent({ name: 'batch-theirs' });

    const { transport, requests } = counting();
    const client = new RestClient({ endpoint: server.url, apiKey: server.apiKey, fetch: transport });
    const unknown = '00000000-0000-7000-8000-000000000000';
    const ids = [...agents.map((a) => a.id), unknown, theirs.id, 'not-a-uuid'];
    const found = await Promise.all(ids.map((id) => client.findAgent(id)));

    expect(requests).toEqual([{ method: 'GET', path: '/v1/agents', ids: [...agents.map((a) => a.id), unknown, theirs.id] }]);
    expect(found.slice(0, 30).map((a) => a?.id)).toEqual(agents.map((a) => a.id));
    expect(found[5]!.status).toBe('revoked'); // revoked agents are still read (Terraform plans a replacement)
    expect(found[7]).toEqual(await admin.getAgent(agents[7]!.id)); // same view as GET /v1/agents/{id}
    expect(found.slice(30)).toEqual([null, null, null]); // unknown, another organization's, malformed
  });

  it(`sends at most ${MAX_IDS_PER_LIST} ids per request`, async () => {
    const { transport, requests } = counting();
    const client = new RestClient({ endpoint: server.url, apiKey: server.apiKey, fetch: transport });
    const ids = Array.from({ length: 450 }, (_, i) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`);
    const found = await Promise.all(ids.map((id) => client.findAgent(id)));
    expect(found.every((a) => a === null)).toBe(true);
    expect(requests.map((r) => r.ids.length).sort((a, b) => a - b)).toEqual([50, 200, 200]);
  });

  it('asks again in halves when a batch exceeds the response cap', async () => {
    const admin = new RestClient({ endpoint: server.url, apiKey: server.apiKey });
    const big = { blob: 'x'.repeat(1000) };
    const agents = [];
    for (let i = 0; i < 8; i++) agents.push(await admin.createAgent({ name: `batch-big-${i}`, metadata: big }));
    // Room for about three agents per response.
    const { transport, requests } = counting(nodeFetch({ maxResponseBytes: 4000 }));
    const client = new RestClient({ endpoint: server.url, apiKey: server.apiKey, fetch: transport });
    const found = await Promise.all(agents.map((a) => client.findAgent(a.id)));
    expect(found.map((a) => a?.id)).toEqual(agents.map((a) => a.id));
    const sizes = requests.map((r) => r.ids.length);
    expect(sizes[0]).toBe(8);
    expect(Math.max(...sizes.slice(1))).toBeLessThan(8);
    expect(sizes.filter((n) => n <= 2).length).toBeGreaterThan(0);
  });

  it('reports a refused batch as each read\'s error', async () => {
    const client = new RestClient({ endpoint: server.url, apiKey: 'aa_wrong', maxRetries: 0 });
    const reads = [client.findAgent('00000000-0000-7000-8000-000000000001'), client.findAgent('00000000-0000-7000-8000-000000000002')];
    for (const r of reads) await expect(r).rejects.toBeInstanceOf(AuthenticationError);
  });
});
