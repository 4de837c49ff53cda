/**
 * `certusordo serve` as an operator runs it (`npm start` runs exactly this): the built CLI in its
 * own process on the embedded default. First start prints the admin key on a line of its own, on
 * stderr, never on stdout where the JSON logs go (or writes it to CERTUSORDO_BOOTSTRAP_KEY_FILE); a
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
  stderr: () => string;
}

function serve(extraEnv: Record<string, string> = {}): Promise<Served> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'info', ...extraEnv };
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
        resolve({ child, url: m[1]!, stdout: () => out, stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`serve exited with ${code}`), { code, stdout: out, stderr: err }));
    });
  });
}

/** Resolves once the process has written what `ready` looks for (the key line follows the listening line by a few writes). */
function untilOutput(s: Served, ready: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!ready()) return;
      s.child.stdout!.off('data', check);
      s.child.stderr!.off('data', check);
      resolve();
    };
    s.child.stdout!.on('data', check);
    s.child.stderr!.on('data', check);
    s.child.once('exit', () => reject(new Error(`serve exited before the expected output\n${s.stdout()}\n${s.stderr()}`)));
    check();
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
  await untilOutput(first, () => first.stderr().includes('CERTUSORDO_API_KEY='));
  const keyLine = first.stderr().split('\n').find((l) => l.startsWith('CERTUSORDO_API_KEY='));
  expect(keyLine).toMatch(/^CERTUSORDO_API_KEY=aa_[A-Za-z0-9_-]{43}$/);
  const key = keyLine!.split('=')[1]!;
  // The key appears only on its own line of stderr: never on stdout, the stream of the JSON logs
  // that collectors ship and keep.
  expect(first.stderr().split('\n').filter((l) => l.includes(key))).toEqual([keyLine]);
  expect(first.stdout()).not.toContain(key);
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
    expect(again.stdout() + again.stderr()).not.toContain('CERTUSORDO_API_KEY=');
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
      expect(served.stdout() + served.stderr()).not.toContain('CERTUSORDO_API_KEY='); // not empty: no bootstrap org
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

test('with CERTUSORDO_BOOTSTRAP_KEY_FILE the first-start key goes to that file (0600) and to no stream', async () => {
  const before = dataDir;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-serve-file-'));
  const file = path.join(dataDir, 'bootstrap-api-key');
  const served = await serve({ CERTUSORDO_BOOTSTRAP_KEY_FILE: file });
  try {
    await untilOutput(served, () => /bootstrap key file/.test(served.stdout()));
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(/^CERTUSORDO_API_KEY=aa_[A-Za-z0-9_-]{43}\n$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const key = text.trim().split('=')[1]!;
    expect(served.stdout() + served.stderr()).not.toContain(key);
    expect((await request(served.url).get('/v1/agents').set('Authorization', `Bearer ${key}`)).status).toBe(200);
  } finally {
    await stop(served);
    fs.rmSync(dataDir, { recursive: true, force: true });
    dataDir = before;
  }
});
