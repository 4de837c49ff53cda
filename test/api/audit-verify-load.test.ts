/**
 * Verification under concurrent callers, over HTTP: many `reader` requests for one organization
 * share one chain walk, so together they hold one database connection, not one each.
 *
 * PostgreSQL only: the test holds a lock on a second connection so the server's walk waits on its
 * first query while the requests arrive; PGlite has a single connection (the walk and the lock
 * holder would be the same session).
 */
import knexFactory, { Knex } from 'knex';
import { startTestServer, TestServer } from '../support/server';
import { client } from '../support/http';
import { testBackend } from '../support/databases';
import { untilLockWaiters } from '../support/pg-locks';

const onPostgres = testBackend() === 'postgres' ? describe : describe.skip;

onPostgres('concurrent verification (PostgreSQL: needs a second connection to hold the lock)', () => {
  let s: TestServer;
  let holder: Knex;
  beforeAll(async () => {
    s = await startTestServer();
    // One connection holds the lock; the other watches for waiters outside its transaction.
    holder = knexFactory({ client: 'pg', connection: s.store.databaseUrl!, pool: { min: 0, max: 2 } });
  });
  afterAll(async () => {
    await holder?.destroy();
    await s?.close();
  });

  test('ten reader requests at once share one walk and one waiting query', async () => {
    const admin = client(s.url, s.apiKey);
    for (let i = 0; i < 3; i++) await admin.post('/v1/agents', { name: `load-${i}` }).expect(201);
    const reader = client(s.url, await s.createApiKey('reader'));
    const audit = s.running.services.audit;
    const calls = audit.stats.calls;
    const walks = audit.stats.walks;

    // Resolves when the tenth request reaches the verifier (the real one: the spy calls through).
    const verify = audit.verify.bind(audit);
    let arrivals = 0;
    let allArrived!: () => void;
    const tenArrived = new Promise<void>((resolve) => (allArrived = resolve));
    const spy = jest.spyOn(audit, 'verify').mockImplementation((...args) => {
      const result = verify(...args);
      if (++arrivals === 10) allArrived();
      return result;
    });

    const trx = await holder.transaction();
    let responses: Array<{ status: number; body: unknown }>;
    try {
      await trx.raw('lock table audit_events in access exclusive mode');
      const pending = Array.from({ length: 10 }, () => reader.get('/v1/audit-events/verify').then((r) => ({ status: r.status, body: r.body })));
      await tenArrived;
      expect(audit.stats.calls - calls).toBe(10);
      // The tenth arrival can precede the walk's query reaching PostgreSQL: wait until the walk is
      // blocked on the lock, then count every session blocked on it.
      expect(await untilLockWaiters(holder, (n) => n > 0, { table: 'audit_events' })).toBe(1);
      await trx.commit();
      responses = await Promise.all(pending);
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
      spy.mockRestore();
    }
    expect(audit.stats.walks - walks).toBe(1);
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    for (const r of responses) expect(r.body).toEqual(responses[0]!.body);
    expect(responses[0]!.body).toMatchObject({ valid: true, first_broken_seq: null });
  });
});
