/**
 * A start that cannot succeed ends the process: non-zero exit, a message that names the cause and
 * the fix, nothing left running. The built CLI in its own process, against PostgreSQL, as an
 * operator (or a crash-looping orchestrator) runs it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { ensureBuilt } from '../support/build';
import { createTestStore, TestStore } from '../support/databases';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
const newKey = () => randomBytes(32).toString('base64url');

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Runs the CLI to its exit (a process that never exits fails the test by its timeout). */
function cli(args: string[], env: Record<string, string | undefined>): Promise<Exited> {
  const full: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'info' };
  delete full.DATABASE_URL;
  delete full.CERTUSORDO_MASTER_KEY;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) full[k] = v;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: full });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => resolve({ code, signal, out, err }));
  });
}

let store: TestStore;
let dataDir: string;
const k1 = newKey();

beforeAll(async () => {
  ensureBuilt();
  store = await createTestStore('postgres');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-fatal-'));
  // The first process to open the database with a key records its fingerprint.
  const migrated = await cli(['migrate', '--data-dir', dataDir], { DATABASE_URL: store.databaseUrl, CERTUSORDO_MASTER_KEY: k1 });
  expect(migrated.code).toBe(0);
}, 300_000);
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function countOrganizations(): Promise<number> {
  const k = knexFactory({ client: 'pg', connection: store.databaseUrl!, pool: { min: 0, max: 1 } });
  try {
    return Number((await k('organizations').count<{ count: string }[]>('* as count'))[0]!.count);
  } finally {
    await k.destroy();
  }
}

test('serve with another master key than the database was sealed with exits non-zero and says which key to use', async () => {
  const r = await cli(['serve', '--port', '0', '--data-dir', dataDir], { DATABASE_URL: store.databaseUrl, CERTUSORDO_MASTER_KEY: newKey() });
  expect(r.code).not.toBe(0);
  expect(r.err).toMatch(/The database's keys were sealed with another master key/);
  expect(r.err).toMatch(/Give every replica .*the same CERTUSORDO_MASTER_KEY/);
  expect(r.out).not.toMatch(/listening/);
  expect(r.err + r.out).not.toContain(k1);
  expect(await countOrganizations()).toBe(0); // refused before bootstrapping anything
});

test('orgs create without the master key, against a database that has one: refused, no key file generated, no organization', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-fatal-orgs-'));
  try {
    const r = await cli(['orgs', 'create', 'acme', '--data-dir', dir], { DATABASE_URL: store.databaseUrl });
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/sealed with a master key .* that this process does not have/);
    expect(r.err).toMatch(/Set CERTUSORDO_MASTER_KEY to the master key the server uses/);
    expect(r.out).not.toMatch(/CERTUSORDO_API_KEY=/);
    expect(fs.existsSync(path.join(dir, 'master.key'))).toBe(false);
    expect(await countOrganizations()).toBe(0);

    const wrong = await cli(['api-keys', 'create-local', '--org', '00000000-0000-7000-8000-000000000000', '--role', 'admin', '--data-dir', dir], {
      DATABASE_URL: store.databaseUrl,
      CERTUSORDO_MASTER_KEY: newKey(),
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toMatch(/sealed with another master key/);

    // With the right key it works.
    const ok = await cli(['orgs', 'create', 'acme', '--data-dir', dir], { DATABASE_URL: store.databaseUrl, CERTUSORDO_MASTER_KEY: k1 });
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/CERTUSORDO_API_KEY=aa_/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('api-keys create-local requires --role', async () => {
  const r = await cli(['api-keys', 'create-local', '--org', '00000000-0000-7000-8000-000000000000', '--data-dir', dataDir], { DATABASE_URL: store.databaseUrl, CERTUSORDO_MASTER_KEY: k1 });
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/--role/);
});

test('a port in use: exits non-zero naming the port and the fix', async () => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const r = await cli(['serve', '--port', String(port), '--data-dir', dataDir], { DATABASE_URL: store.databaseUrl, CERTUSORDO_MASTER_KEY: k1 });
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`Cannot listen on 127.0.0.1:${port}: the port is already in use`);
    expect(r.err).toMatch(/choose another port with --port or PORT/);
  } finally {
    busy.close();
  }
});

test('a database that accepts connections and never answers: exits non-zero naming DATABASE_URL, without its password', async () => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => void sockets.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const r = await cli(['serve', '--port', '0', '--data-dir', dataDir], { DATABASE_URL: `postgres://u:pw-not-shown@127.0.0.1:${port}/db`, CERTUSORDO_MASTER_KEY: k1 });
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/Cannot open the PostgreSQL database postgres:\/\/127\.0\.0\.1:\d+\/db \(DATABASE_URL\): no answer within 3 s/);
    expect(r.err).toMatch(/Check that PostgreSQL is running/);
    expect(r.err).not.toContain('pw-not-shown');
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});
