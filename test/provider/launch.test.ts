/**
 * The provider's launcher (provider-bridge/src/main.ts): the built single-file bundle starts with
 * its V8 code cache, a cache never outlives the bundle it was made from, a stale or disabled
 * bundle falls back to the module tree, and both paths complete the go-plugin handshake.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleIsStale, codeCacheFile } from '../../provider-bridge/src/main';
import { ensureBuilt } from '../support/build';

const ROOT = path.resolve(__dirname, '../..');
const MAIN_JS = path.join(ROOT, 'dist/provider-bridge/src/main.js');
const BUNDLE = path.join(ROOT, 'dist/provider-bridge/bundle/plugin.js');
const COOKIE = { TF_PLUGIN_MAGIC_COOKIE: 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2', PLUGIN_PROTOCOL_VERSIONS: '6' };

beforeAll(() => ensureBuilt(), 300_000);

/** Starts main.js like Terraform (plaintext: no PLUGIN_CLIENT_CERT): the handshake line and the start-up debug log. */
function handshake(env: NodeJS.ProcessEnv = {}): Promise<{ line: string; log: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_JS], { env: { ...process.env, ...COOKIE, TF_LOG_PROVIDER: 'debug', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    // The serving debug line follows the handshake; stop once both are in.
    const done = () => out.includes('\n') && err.includes('provider serving') && child.kill('SIGKILL');
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      done();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      done();
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      if (out.includes('\n')) resolve({ line: out.split('\n')[0]!, log: err });
      else reject(new Error(`no handshake; stderr:\n${err}`));
    });
  });
}

/** Which path a launch takes, observed from inside a process that loads main.js's functions. */
function probe(script: string, env: NodeJS.ProcessEnv = {}): unknown {
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return JSON.parse(out);
}

test('the build makes a bundle whose code cache V8 accepts', () => {
  expect(fs.existsSync(BUNDLE)).toBe(true);
  const source = fs.readFileSync(BUNDLE, 'utf8');
  expect(fs.existsSync(codeCacheFile(BUNDLE, source))).toBe(true);
  expect(bundleIsStale(BUNDLE)).toBe(false);
  const r = probe(`const m = require(${JSON.stringify(MAIN_JS)}); const b = m.loadBundle(); console.log(JSON.stringify({ hit: b.cacheHit, run: typeof b.plugin.run }))`);
  expect(r).toEqual({ hit: true, run: 'function' });
});

test('a code cache is named by the bundle content, so an edited bundle of the same length never reuses it', () => {
  const a = 'module.exports = { run() { return 1 } }';
  const b = 'module.exports = { run() { return 2 } }';
  expect(a.length).toBe(b.length);
  expect(codeCacheFile('/x/plugin.js', a)).not.toBe(codeCacheFile('/x/plugin.js', b));
  expect(codeCacheFile('/x/plugin.js', a)).toBe(codeCacheFile('/x/plugin.js', a));
});

test('a bundle without a cache runs, and writes its cache for the next launch', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-bundle-'));
  try {
    const file = path.join(dir, 'plugin.js');
    fs.writeFileSync(file, 'exports.run = () => 42; exports.answer = require("node:path").sep;');
    const script = (f: string) => `const m = require(${JSON.stringify(MAIN_JS)}); const b = m.loadBundle(${JSON.stringify(f)}); const hit = b.cacheHit; b.writeCache(); console.log(JSON.stringify({ hit, ran: b.plugin.run(), sep: b.plugin.answer }))`;
    expect(probe(script(file))).toEqual({ hit: false, ran: 42, sep: path.sep });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.cache'))).toHaveLength(1);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toHaveLength(0);
    expect(probe(script(file))).toEqual({ hit: true, ran: 42, sep: path.sep });
    expect(probe(`const m = require(${JSON.stringify(MAIN_JS)}); console.log(JSON.stringify(m.loadBundle(${JSON.stringify(path.join(dir, 'missing.js'))})))`)).toBeNull();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a compiled file newer than the bundle makes it stale', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-stale-'));
  try {
    const src = path.join(dir, 'src');
    fs.mkdirSync(path.join(src, 'nested'), { recursive: true });
    const bundle = path.join(dir, 'plugin.js');
    fs.writeFileSync(path.join(src, 'nested', 'a.js'), '');
    fs.writeFileSync(bundle, '');
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(src, 'nested', 'a.js'), past, past);
    expect(bundleIsStale(bundle, [src])).toBe(false);
    fs.writeFileSync(path.join(src, 'nested', 'a.js'), '// recompiled');
    const future = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(src, 'nested', 'a.js'), future, future);
    expect(bundleIsStale(bundle, [src])).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the handshake comes from the bundle and, with the bundle turned off, from the module tree', async () => {
  const fromBundle = await handshake();
  const fromModules = await handshake({ CERTUSORDO_PROVIDER_BUNDLE: '0' });
  for (const { line } of [fromBundle, fromModules]) expect(line).toMatch(/^1\|6\|unix\|\/.+\|grpc\|$/);
  expect(fromBundle.log).toContain('"launch":"bundle+cache"');
  expect(fromModules.log).toContain('"launch":"modules"');
}, 60_000);
