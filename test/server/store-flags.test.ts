/** `--database-url` with a password: it works, and the CLI warns that its arguments are visible to other users (never echoing the password). */
import { Writable } from 'node:stream';
import { storeOverrides } from '../../cli/commands/server/serve';

const warningsFor = (databaseUrl: string): string => {
  const chunks: string[] = [];
  const stderr = new Writable({ write(chunk: Buffer | string, _enc, done) { chunks.push(chunk.toString()); done(); } });
  expect(storeOverrides({ databaseUrl }, stderr).DATABASE_URL).toBe(databaseUrl);
  return chunks.join('');
};

test.each([
  ['in the user info', 'postgres://app:S3cret-pw@db.internal:5432/certusordo'],
  ['as a query parameter', 'postgres://db.internal/certusordo?user=app&password=S3cret-pw'],
])('a password in --database-url (%s) is warned about, not echoed', (_where, url) => {
  const warning = warningsFor(url);
  expect(warning).toMatch(/visible to other users.*DATABASE_URL/);
  expect(warning).not.toContain('S3cret-pw');
});

test('a URL without a password (peer or PGPASSFILE authentication) gets no warning', () => {
  expect(warningsFor('postgres://app@db.internal:5432/certusordo')).toBe('');
  expect(warningsFor('postgresql:///certusordo?host=/var/run/postgresql')).toBe('');
});
