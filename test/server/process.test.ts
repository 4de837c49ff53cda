/**
 * `certusordo serve` as an operator runs it (`npm start` runs exactly this): the built CLI in its
 * own process on the embedded default. First start prints the admin key on a line of its own; a
 * second process on the same data directory fails clearly; SIGTERM shuts down gracefully; a
 * restart keeps the data and prints no new key.
 */
import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
let dataDir: string;

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-serve-'));
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

interface Served {
  child: ChildProcess;
  url: string;
  stdout: () => string;
}

function serve(): Promise<Served> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'info' };
  delete env.CERTUSORDO_MASTER_KEY; // the embedded default generates its key file
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 60 s\n${out}\n${err}`)), 60_000);
    child.stdout!.on('data', () => {
      const m = /"url":"(http:\/\/[^"]+)".*listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, stdout: () => out });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`serve exited with ${code}`), { code, stdout: out, stderr: err }));
    });
  });
}

function stop(s: Served): Promise<number | null> {
  return new Promise((resolve) => {
    s.child.once('exit', (code) => resolve(code));
    s.child.kill('SIGTERM');
  });
}

test('first start, second process refused, graceful stop, restart keeps data', async () => {
  const first = await serve();
  const keyLine = first.stdout().split('\n').find((l) => l.startsWith('CERTUSORDO_API_KEY='));
  expect(keyLine).toMatch(/^CERTUSORDO_API_KEY=aa_[A-Za-z0-9_-]{43}$/);
  const key = keyLine!.split('=')[1]!;
  // The key appears only on its own line, never inside a JSON log record.
  expect(first.stdout().split('\n').filter((l) => l.includes(key))).toEqual([keyLine]);
  const created = await request(first.url).post('/v1/agents').set('Authorization', `Bearer ${key}`).send({ name: 'persisted', scopes: ['a:read'] });
  expect(created.status).toBe(201);
  expect(first.stdout()).not.toContain(created.body.secret);

  const second = await serve().then(
    () => null,
    (e: { code: number; stderr: string; stdout: string }) => e,
  );
  expect(second).not.toBeNull();
  expect(second!.code).not.toBe(0);
  expect(second!.stderr + second!.stdout).toMatch(/in use by another CertusOrdo process \(pid \d+\)/);
  // One `error: <cause>. <fix>` line: the cause as it stands, no "could not start" wrapper, no stray "..".
  expect(second!.stderr).toMatch(/^error: The data directory .* is in use by another CertusOrdo process \(pid \d+\)\. Stop that process, or choose another directory with --data-dir \/ CERTUSORDO_DATA_DIR$/m);
  expect(second!.stderr).not.toContain('..');

  expect(await stop(first)).toBe(0);
  expect(fs.existsSync(path.join(dataDir, 'certusordo.lock'))).toBe(false);

  const again = await serve();
  try {
    expect(again.stdout()).not.toContain('CERTUSORDO_API_KEY=');
    const got = await request(again.url).get(`/v1/agents/${created.body.id}`).set('Authorization', `Bearer ${key}`);
    expect(got.body).toMatchObject({ name: 'persisted', scopes: ['a:read'], status: 'active' });
  } finally {
    await stop(again);
  }
});

test('`certusordo orgs create` and `api-keys create-local` mint working keys without a server', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-orgs-'));
  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
      delete env.DATABASE_URL;
      delete env.CERTUSORDO_MASTER_KEY;
      const child = spawn(process.execPath, [CLI, ...args, '--data-dir', dir], { env });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => resolve({ code, out, err }));
    });
  try {
    const org = await run(['orgs', 'create', 'acme', '--json']);
    expect(org.code).toBe(0);
    const created = JSON.parse(org.out);
    expect(created.api_key.key).toMatch(/^aa_/);
    const op = await run(['api-keys', 'create-local', '--org', created.organization.id, '--role', 'operator', '--name', 'oncall']);
    expect(op.code).toBe(0);
    const opKey = /CERTUSORDO_API_KEY=(aa_\S+)/.exec(op.out)![1]!;
    const bad = await run(['api-keys', 'create-local', '--org', created.organization.id, '--role', 'root']);
    expect(bad.code).not.toBe(0);

    dataDir = dir;
    const served = await serve();
    try {
      expect(served.stdout()).not.toContain('CERTUSORDO_API_KEY='); // not empty: no bootstrap org
      const a = await request(served.url).post('/v1/agents').set('Authorization', `Bearer ${created.api_key.key}`).send({ name: 'x' });
      expect(a.status).toBe(201);
      const s = await request(served.url).post(`/v1/agents/${a.body.id}/suspend`).set('Authorization', `Bearer ${opKey}`);
      expect(s.body.status).toBe('suspended');
    } finally {
      await stop(served);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
