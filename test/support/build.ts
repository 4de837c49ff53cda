/**
 * Suites that spawn compiled code (the CLI, the provider) need `dist/` to match the sources.
 * `npm test` builds first; this keeps a direct `npx jest …` honest too, by running the
 * (incremental) build when any source file is newer than the last build.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bundleIsStale } from '../../provider-bridge/src/main';

const ROOT = path.resolve(__dirname, '../..');
const BUILD_INFO = path.join(ROOT, 'dist/.tsbuildinfo');
const SOURCES = ['api', 'model', 'cli', 'sdk', 'provider-bridge', 'constructs/src', 'packages', 'bench', 'examples/pipeline'];

function newestMtime(dir: string): number {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    // packages/*/dist holds build output (declarations included), not sources.
    if (e.isDirectory()) newest = e.name === 'dist' ? newest : Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.proto')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

const BUNDLE = path.join(ROOT, 'dist/provider-bridge/bundle/plugin.js');

/** The launcher's own check, on the built tree (its default directories are relative to itself). */
function bundleStale(): boolean {
  return !fs.existsSync(BUNDLE) || bundleIsStale(BUNDLE, [path.join(ROOT, 'dist/provider-bridge/src'), path.join(ROOT, 'dist/model')]);
}

export function ensureBuilt(): void {
  const built = fs.existsSync(BUILD_INFO) ? fs.statSync(BUILD_INFO).mtimeMs : 0;
  const sourcesChanged = built < Math.max(...SOURCES.map((d) => newestMtime(path.join(ROOT, d))));
  if (sourcesChanged) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  }
  // The provider's single-file bundle, as `npm run build` makes it.
  if (sourcesChanged || bundleStale()) {
    execFileSync(process.execPath, [path.join(ROOT, 'dist/provider-bridge/src/bundle.js')], { cwd: ROOT, stdio: 'inherit' });
  }
  // The console that `certusordo serve` serves at /console.
  ensureConsoleBuilt();
  // The published packages (packages/*/dist), built from all of the above.
  if (packagesStale()) {
    execFileSync(process.execPath, [path.join(ROOT, 'dist/packages/build.js')], { cwd: ROOT, stdio: 'inherit' });
  }
}

const PACKAGE_DIRS = ['sdk', 'cdktf', 'server', 'terraform-provider'].map((p) => path.join(ROOT, 'packages', p, 'dist'));

/** A package build older than the compiled tree, the provider bundle or the console is stale. */
function packagesStale(): boolean {
  const mtime = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0);
  const oldestPackage = Math.min(...PACKAGE_DIRS.map(mtime));
  return oldestPackage < Math.max(mtime(BUILD_INFO), mtime(BUNDLE), mtime(CONSOLE_INDEX));
}

const CONSOLE_INDEX = path.join(ROOT, 'dist/console/index.html');

function newestConsoleSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestConsoleSource(p));
    else newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** The admin console's static assets (console/ → dist/console), as `npm run build:console` makes them. */
export function ensureConsoleBuilt(): void {
  const built = fs.existsSync(CONSOLE_INDEX) ? fs.statSync(CONSOLE_INDEX).mtimeMs : 0;
  if (built >= newestConsoleSource(path.join(ROOT, 'console'))) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'console/tsconfig.json')], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', path.join(ROOT, 'console/vite.config.ts')], { cwd: ROOT, stdio: 'inherit' });
}
