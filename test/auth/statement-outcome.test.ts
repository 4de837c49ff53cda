/**
 * Which failed statements are known not to have committed, on real errors of the database and the
 * pool: the auth writer writes a speculative token batch again through its locking path only then,
 * since writing again a batch that did commit would report issued tokens as replayed and audit them
 * twice. A server error (a SQLSTATE) and a connection the pool never handed out are known; a
 * connection lost while the statement ran is not.
 */
import knexFactory from 'knex';
import { startTestServer, TestServer } from '../support/server';
import { testBackend } from '../support/databases';
import { startTcpProxy, throughProxy } from '../support/tcp-proxy';
import { statementDidNotCommit } from '../../api/src/db/errors';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const failureOf = (work: Promise<unknown>) => work.then(() => { throw new Error('the statement succeeded'); }, (err: unknown) => err);

test('an error the server answered with (division by zero, an unknown table) means the statement did not commit', async () => {
  const db = s.running.db.knex;
  expect(statementDidNotCommit(await failureOf(db.raw('select 1 / 0')))).toBe(true);
  expect(statementDidNotCommit(await failureOf(db.raw('select * from no_such_table')))).toBe(true);
  expect(statementDidNotCommit(new Error('anything else'))).toBe(false);
});

(testBackend() === 'postgres' ? describe : describe.skip)('PostgreSQL connections', () => {
  test('a connection lost while the statement ran leaves its outcome unknown; a pool that never handed one out does not', async () => {
    const url = new URL(s.store.databaseUrl!);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    const viaProxy = knexFactory({ client: 'pg', connection: throughProxy(s.store.databaseUrl!, proxy), pool: { min: 0, max: 1 }, acquireConnectionTimeout: 500 });
    try {
      await viaProxy.raw('select 1');
      const trx = await viaProxy.transaction(); // the pool's only connection
      const starved = await failureOf(viaProxy.raw('select 1'));
      expect(statementDidNotCommit(starved)).toBe(true);
      await trx.rollback();
      // The proxy drops every connection while a statement waits for its answer.
      const running = failureOf(viaProxy.raw('select pg_sleep(30)'));
      const sleeping = `from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'`;
      while ((await s.running.db.knex.raw(`select count(*)::int as n ${sleeping}`)).rows[0].n === 0); // until the server runs it
      await proxy.close();
      expect(statementDidNotCommit(await running)).toBe(false);
      await s.running.db.knex.raw(`select pg_cancel_backend(pid) ${sleeping}`);
    } finally {
      await viaProxy.destroy();
      await proxy.close();
    }
  });
});
