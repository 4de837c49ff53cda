/**
 * Entry point Terraform executes (through bin/terraform-provider-certusordo or the installed
 * wrapper). Terraform starts a fresh provider process for each graph walk — schema, validate,
 * plan and apply: four per `terraform apply` — so start-up is paid again and again. When the
 * build produced the single-file bundle (src/bundle.ts), it is compiled with a V8 code cache
 * kept beside it, which skips resolving ~150 module files and most of the parsing; without the
 * bundle the module tree is loaded as usual. Both run the same plugin.ts.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';

interface PluginModule {
  run(): void;
}

/** dist/provider-bridge/bundle/plugin.js, beside this file's dist/provider-bridge/src. */
export const BUNDLE_FILE = path.join(__dirname, '..', 'bundle', 'plugin.js');

/**
 * V8 accepts a code cache whose source has the same length, so the cache's name carries a hash
 * of the bundle's content: a rebuilt bundle never runs with bytecode compiled from another one.
 */
export function codeCacheFile(bundleFile: string, source: string): string {
  return `${bundleFile}.${createHash('sha256').update(source).digest('hex').slice(0, 16)}.cache`;
}

/** Writes atomically (temp file + rename), since several provider processes may race here. */
function writeCache(script: vm.Script, cacheFile: string): void {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, script.createCachedData());
    fs.renameSync(tmp, cacheFile);
  } catch {
    fs.rmSync(tmp, { force: true }); // a read-only installation simply runs without a cache
  }
}

export interface LoadedBundle {
  plugin: PluginModule;
  /** True when V8 used the code cache. */
  cacheHit: boolean;
  /** Writes the code cache now (the build does this once; a launch without one does it later). */
  writeCache(): void;
}

function newestJs(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestJs(p));
    else if (e.name.endsWith('.js')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * True when a compiled file the bundle was made from is newer than the bundle (a build that ran
 * tsc without the bundle step): the bundle would run old code. Costs about a millisecond.
 */
export function bundleIsStale(bundleFile: string, sourceDirs: readonly string[] = [__dirname, path.join(__dirname, '..', '..', 'model')]): boolean {
  const bundled = fs.statSync(bundleFile).mtimeMs;
  return sourceDirs.some((d) => fs.existsSync(d) && newestJs(d) > bundled);
}

/** Compiles and evaluates the bundle as a CommonJS module; null when there is no bundle. */
export function loadBundle(bundleFile: string = BUNDLE_FILE): LoadedBundle | null {
  let source: string;
  try {
    source = fs.readFileSync(bundleFile, 'utf8');
  } catch {
    return null;
  }
  const cacheFile = codeCacheFile(bundleFile, source);
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundleFile,
    cachedData,
  });
  const mod = { exports: {} as PluginModule };
  // The bundle requires only Node's built-in modules, which any require resolves.
  script.runInThisContext()(mod.exports, require, mod, bundleFile, path.dirname(bundleFile));
  return {
    plugin: mod.exports,
    cacheHit: cachedData !== undefined && !script.cachedDataRejected,
    writeCache: () => writeCache(script, cacheFile),
  };
}

/** The bundle unless it is missing, stale, or turned off (CERTUSORDO_PROVIDER_BUNDLE=0, e.g. to debug with source maps). */
function usableBundle(): LoadedBundle | null {
  if (process.env.CERTUSORDO_PROVIDER_BUNDLE === '0' || !fs.existsSync(BUNDLE_FILE) || bundleIsStale(BUNDLE_FILE)) return null;
  return loadBundle();
}

/** Read by plugin.ts for its start-up debug line (Symbol.for: the bundle has its own copy of plugin.ts). */
function setLaunchMode(mode: string): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for('certusordo.provider.launch')] = mode;
}

if (require.main === module) {
  const bundle = usableBundle();
  if (bundle) {
    setLaunchMode(bundle.cacheHit ? 'bundle+cache' : 'bundle');
    bundle.plugin.run();
    // No usable cache (e.g. a different Node version than the build's): make one once this
    // process has compiled its start-up and first calls, for the launches that follow.
    if (!bundle.cacheHit) setTimeout(bundle.writeCache, 1000).unref();
  } else {
    setLaunchMode('modules');
    (require('./plugin') as PluginModule).run();
  }
}
