/**
 * Builds the published packages (packages/<name>/dist) from the repository's sources, as part of
 * `npm run build`. Each package is bundled with esbuild from the TypeScript sources it needs (so
 * shared code such as model/ travels inside the packages that use it), with every npm dependency
 * left external; its type declarations are emitted by tsc.
 *
 * The dependency graph is checked, not trusted: a package whose bundle imports an npm package that
 * its package.json does not declare (or declares with a range other than the root package.json's,
 * the one place versions are chosen) fails the build, and so does a package version other than
 * the root's. `test/packages/` then installs the packed tarballs into a project of their own.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuildOptions, Metafile, Plugin } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGES = path.join(ROOT, 'packages');

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const rootPkg = readJson<PackageJson>(path.join(ROOT, 'package.json'));

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`; `node:fs`/`fs` → null. */
function npmPackageOf(specifier: string): string | null {
  if (specifier.startsWith('node:') || specifier.startsWith('.') || path.isAbsolute(specifier)) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  return BUILTINS.has(name) ? null : name;
}
const BUILTINS = new Set(require('node:module').builtinModules as string[]);

/** The npm packages a bundle imports (its external, non-builtin imports). */
function importedPackages(meta: Metafile): Set<string> {
  const names = new Set<string>();
  for (const output of Object.values(meta.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external) continue;
      const name = npmPackageOf(imp.path);
      if (name) names.add(name);
    }
  }
  return names;
}

/**
 * Fails unless every npm package the bundles import is declared in the package's package.json,
 * with the root's range, and nothing else is.
 */
function checkDependencies(dir: string, bundles: readonly Metafile[], extraDeclared: readonly string[] = []): void {
  const imported = new Set(bundles.flatMap((meta) => [...importedPackages(meta)]));
  const pkg = readJson<PackageJson>(path.join(dir, 'package.json'));
  const problems: string[] = [];
  if (pkg.version !== rootPkg.version) problems.push(`version ${pkg.version} differs from the root package.json's ${rootPkg.version}`);
  const declared = { ...pkg.dependencies, ...pkg.peerDependencies };
  const rootRanges = { ...rootPkg.dependencies, ...rootPkg.devDependencies };
  for (const name of imported) {
    // A package may import itself by name (Node's self-reference through `exports`).
    if (!(name in declared) && name !== pkg.name) problems.push(`the bundle imports ${name}, which package.json does not declare`);
  }
  for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
    if (!imported.has(name) && !extraDeclared.includes(name)) problems.push(`package.json declares ${name}, which the bundle never imports`);
    const own = name.startsWith('@certusordo/') ? rootPkg.version : rootRanges[name];
    if (own !== undefined && own !== range) problems.push(`${name}: ${range} here, ${own} in the root package.json`);
  }
  if (problems.length) throw new Error(`${pkg.name}:\n  ${problems.join('\n  ')}`);
}

/**
 * Modules that run themselves when they are the process's main module do so through
 * `require.main === module`; inside a bundle every module shares the bundle's `module`, so the
 * check is turned off and each package's entry file starts what it means to start.
 */
const NOT_MAIN: BuildOptions['define'] = { 'require.main': 'undefined' };

/** A CommonJS bundle for Node of a module that a package's bin file starts (its `main`). */
function binEntry(entry: string, outfile: string, extra: BuildOptions = {}): Promise<Metafile> {
  return esbuild({ entryPoints: [path.join(ROOT, entry)], platform: 'node', format: 'cjs', define: NOT_MAIN, outfile, ...extra });
}

async function esbuild(options: BuildOptions): Promise<Metafile> {
  const { build } = await import('esbuild');
  const result = await build({
    bundle: true,
    packages: 'external',
    target: 'node20',
    sourcemap: false,
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
    ...options,
  });
  return result.metafile!;
}

function emitDeclarations(tsconfig: string): void {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { cwd: ROOT, stdio: 'inherit' });
}

function clean(dir: string): void {
  fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
}

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

/** `@certusordo/sdk/mcp` imports the SDK's public entry (`../index`), which is the package itself. */
const sdkEntryAsPackage: Plugin = {
  name: 'sdk-entry-as-package',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index$/ }, () => ({ path: '@certusordo/sdk', external: true }));
  },
};

/**
 * The SDK: ESM and CJS builds of the browser-safe main entry and of `@certusordo/sdk/mcp` (which
 * imports the main entry by the package's name and `@modelcontextprotocol/sdk`, an optional peer),
 * plus declarations.
 */
async function buildSdk(): Promise<void> {
  const dir = path.join(PACKAGES, 'sdk');
  clean(dir);
  const entry = path.join(ROOT, 'sdk/src/index.ts');
  const common: BuildOptions = { entryPoints: [entry], platform: 'neutral', mainFields: ['module', 'main'], target: 'es2022' };
  const esm = await esbuild({ ...common, format: 'esm', outfile: path.join(dir, 'dist/index.mjs') });
  const cjs = await esbuild({ ...common, format: 'cjs', outfile: path.join(dir, 'dist/index.cjs') });
  // What a browser or edge bundler does with the public entry: any node: import fails here.
  await esbuild({ entryPoints: [entry], platform: 'browser', format: 'esm', packages: undefined, write: false, outfile: 'browser.js' });
  const mcp: BuildOptions = { ...common, entryPoints: [path.join(ROOT, 'sdk/src/mcp/index.ts')], packages: undefined, plugins: [sdkEntryAsPackage, externalPackages] };
  const mcpEsm = await esbuild({ ...mcp, format: 'esm', outfile: path.join(dir, 'dist/mcp.mjs') });
  const mcpCjs = await esbuild({ ...mcp, format: 'cjs', outfile: path.join(dir, 'dist/mcp.cjs') });
  emitDeclarations(path.join(dir, 'tsconfig.types.json'));
  checkDependencies(dir, [esm, cjs, mcpEsm, mcpCjs]);
}

/** Rewrites `cdktf` imports to `cdktn` (CDK Terrain keeps cdktf's API under a new name). */
const toCdktn: Plugin = {
  name: 'cdktf-to-cdktn',
  setup(build) {
    build.onResolve({ filter: /^cdktf(\/.*)?$/ }, (args) => ({ path: args.path.replace(/^cdktf/, 'cdktn'), external: true }));
  },
};

function rewriteDeclarations(dir: string, from: RegExp, to: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) rewriteDeclarations(p, from, to);
    else if (e.name.endsWith('.d.ts')) fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace(from, to));
  }
}

/** The constructs: one CommonJS build against cdktf, one against cdktn, with declarations for each. */
async function buildCdktf(): Promise<void> {
  const dir = path.join(PACKAGES, 'cdktf');
  clean(dir);
  const entry = path.join(ROOT, 'constructs/src/index.ts');
  const common: BuildOptions = { entryPoints: [entry], platform: 'node', format: 'cjs' };
  const forCdktf = await esbuild({ ...common, outfile: path.join(dir, 'dist/cdktf/index.js') });
  const forCdktn = await esbuild({ ...common, outfile: path.join(dir, 'dist/cdktn/index.js'), packages: undefined, plugins: [toCdktn, externalPackages] });
  emitDeclarations(path.join(dir, 'tsconfig.types.json'));
  copyTree(path.join(dir, 'dist/cdktf/types'), path.join(dir, 'dist/cdktn/types'));
  rewriteDeclarations(path.join(dir, 'dist/cdktn/types'), /(from |import\()(['"])cdktf(['"/])/g, '$1$2cdktn$3');
  checkDependencies(dir, [forCdktf, forCdktn]);
}

/** `packages: 'external'` for builds that also need an onResolve plugin of their own (plugins run first). */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (path.isAbsolute(args.path) ? undefined : { path: args.path, external: true }));
  },
};

/**
 * The provider: the single-file plugin bundle (dependencies inlined, as the mirror install needs
 * it), its launcher, and the install command. No runtime dependencies.
 */
async function buildProvider(): Promise<void> {
  const dir = path.join(PACKAGES, 'terraform-provider');
  clean(dir);
  const built = path.join(ROOT, 'dist/provider-bridge');
  const bundle = path.join(built, 'bundle/plugin.js');
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: the provider bundle is built before the packages`);
  // The launcher keeps its src/ + bundle/ layout: it finds the bundle at ../bundle/plugin.js.
  fs.mkdirSync(path.join(dir, 'dist/bundle'), { recursive: true });
  fs.copyFileSync(bundle, path.join(dir, 'dist/bundle/plugin.js'));
  const launcher = await esbuild({
    entryPoints: [path.join(ROOT, 'provider-bridge/src/main.ts')],
    platform: 'node',
    format: 'cjs',
    outfile: path.join(dir, 'dist/src/main.js'),
    // The module-tree fallback does not exist in the package; the launcher always finds the bundle.
    external: ['./plugin'],
  });
  const installer = await binEntry('provider-bridge/src/install-cli.ts', path.join(dir, 'dist/src/install.js'));
  // The bundle must be newer than the launcher, or the launcher takes it for stale.
  const later = new Date(fs.statSync(path.join(dir, 'dist/src/main.js')).mtimeMs + 1000);
  fs.utimesSync(path.join(dir, 'dist/bundle/plugin.js'), later, later);
  checkDependencies(dir, [launcher, installer]);
}

/**
 * The server: control plane and CLI in one bundle, with the console and the API reference's
 * assets beside it. `certusordo provider install` loads @certusordo/terraform-provider, an
 * optional peer, instead of carrying a second copy of the provider.
 */
async function buildServer(): Promise<void> {
  const dir = path.join(PACKAGES, 'server');
  clean(dir);
  const providerInstall: Plugin = {
    name: 'provider-install-from-package',
    setup(build) {
      build.onResolve({ filter: /provider-bridge\/src\/install-cli$/ }, () => ({ path: '@certusordo/terraform-provider/install', external: true }));
    },
  };
  const server = await binEntry('cli/main.ts', path.join(dir, 'dist/cli.js'), { plugins: [providerInstall] });
  for (const asset of ['console', 'api-reference']) {
    const from = path.join(ROOT, 'dist', asset);
    if (!fs.existsSync(from)) throw new Error(`${from} is missing: the ${asset} is built before the packages`);
    copyTree(from, path.join(dir, 'dist', asset));
  }
  checkDependencies(dir, [server]);
}

export async function buildPackages(): Promise<void> {
  await buildSdk();
  await buildCdktf();
  await buildProvider();
  await buildServer();
}

if (require.main === module) {
  buildPackages().then(
    () => process.stdout.write('packages: sdk, cdktf, terraform-provider, server built into packages/*/dist\n'),
    (err: unknown) => {
      process.stderr.write(`package build failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
