/**
 * Backup and restore of the embedded store, exactly as docs/operations.md describes it: stop the
 * server, archive its data directory with tar (the PGlite database, and the generated master key
 * file when the key is not set in the environment), unpack the archive into a new directory, start
 * a server there. The restored server has the agents, accepts the same API key, and its audit
 * chain verifies, also against a checkpoint taken before the backup.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../api/src/config';
import { createLogger } from '../../api/src/logger';
import { startServer, RunningServer } from '../../api/src/server';
import { client } from '../support/http';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-restore-'));
const running: RunningServer[] = [];

afterAll(async () => {
  for (const r of running) await r.close().catch(() => undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * The production server on the embedded store in `dataDir`, with the key file it generates there.
 * The public URL is fixed, as in production: it names the issuer that checkpoints are signed as.
 */
async function serve(dataDir: string): Promise<RunningServer> {
  const config = loadConfig({ LOG_LEVEL: 'silent' }, { PORT: 0, HOST: '127.0.0.1', CERTUSORDO_DATA_DIR: dataDir, CERTUSORDO_PUBLIC_URL: 'https://certusordo.test' });
  expect(config.databaseUrl).toBeUndefined();
  const r = await startServer(config, { logger: createLogger('silent') });
  running.push(r);
  return r;
}

test('a stopped server\'s data directory, archived and unpacked elsewhere, serves the same agents and audit chain', async () => {
  const original = path.join(tmp, 'original');
  const first = await serve(original);
  const apiKey = first.bootstrap!.apiKey;
  const api = client(first.url, apiKey);
  const names = ['billing-agent', 'search-agent', 'ops-agent'];
  const created: string[] = [];
  for (const name of names) {
    const res = await api.post('/v1/agents', { name, scopes: ['payments:read'] });
    expect(res.status).toBe(201);
    created.push(res.body.id);
  }
  expect((await api.post(`/v1/agents/${created[2]}/suspend`, { reason: 'before the backup' })).status).toBe(200);
  const checkpoint = (await api.get('/v1/audit-events/checkpoint')).body.checkpoint as string;
  expect(checkpoint).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

  // 1. Stop the server (SIGTERM for `certusordo serve`; here its close()).
  await first.close();
  running.splice(running.indexOf(first), 1);
  // 2. Archive the whole directory.
  const archive = path.join(tmp, 'certusordo-backup.tar.gz');
  execFileSync('tar', ['-C', original, '-czf', archive, '.']);
  expect(execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' })).toContain('./master.key');
  // The original is changed after the backup: the restore must not see it.
  const moved = await serve(original);
  expect((await client(moved.url, apiKey).post('/v1/agents', { name: 'after-the-backup' })).status).toBe(201);
  await moved.close();
  running.splice(running.indexOf(moved), 1);

  // 3. Restore into a new, empty directory and start a server on it.
  const restoredDir = path.join(tmp, 'restored');
  fs.mkdirSync(restoredDir, { mode: 0o700 });
  execFileSync('tar', ['-C', restoredDir, '-xzf', archive]);
  const restored = await serve(restoredDir);
  expect(restored.bootstrap).toBeNull(); // not a new, empty store
  const r = client(restored.url, apiKey);
  const list = (await r.get('/v1/agents?limit=200')).body.data as { id: string; name: string; status: string }[];
  expect(list.map((a) => a.name)).toEqual(names);
  expect(list.map((a) => a.id)).toEqual(created);
  expect(list[2]!.status).toBe('suspended');
  const full = (await r.get('/v1/audit-events/verify?full=true')).body;
  expect(full).toMatchObject({ valid: true, first_broken_seq: null });
  expect(full.events_checked).toBeGreaterThan(names.length);
  expect((await r.get(`/v1/audit-events/verify?checkpoint=${checkpoint}`)).body).toMatchObject({ valid: true });
  // The restored store takes writes and keeps its chain.
  expect((await r.post('/v1/agents', { name: 'after-the-restore' })).status).toBe(201);
  expect((await r.get('/v1/audit-events/verify')).body).toMatchObject({ valid: true });
});
