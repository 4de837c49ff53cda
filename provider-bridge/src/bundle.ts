/**
 * Build step (part of `npm run build`): bundles the compiled plugin (dist/provider-bridge/src/plugin.js)
 * and its dependencies into dist/provider-bridge/bundle/plugin.js with the parsed .proto
 * descriptor inlined, then writes the bundle's V8 code cache. main.ts prefers this bundle; see it
 * for why start-up matters. esbuild is a devDependency: without it the step is skipped and the
 * provider runs from the module tree, only slower to start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUNDLE_FILE, codeCacheFile, loadBundle } from './main';
import { parseProtos } from './server/protos';

export async function bundlePlugin(outFile: string = BUNDLE_FILE): Promise<{ bytes: number } | null> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return null;
  }
  const result = await esbuild.build({
    entryPoints: [path.join(__dirname, 'plugin.js')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Smaller source to read and hash on every launch; identifiers stay readable in stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    define: { __TFPLUGIN_DESCRIPTOR__: JSON.stringify(parseProtos().toJSON()) },
    logLevel: 'warning',
    write: false,
  });
  // Replaced atomically: providers (e.g. of a running test) may be launching from it right now.
  const outDir = path.dirname(outFile);
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = `${outFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, result.outputFiles[0]!.contents);
  fs.renameSync(tmp, outFile);
  const loaded = loadBundle(outFile);
  if (!loaded) throw new Error(`bundle ${outFile} was not written`);
  loaded.writeCache();
  const keep = path.basename(codeCacheFile(outFile, fs.readFileSync(outFile, 'utf8')));
  for (const f of fs.readdirSync(outDir)) if (f.endsWith('.cache') && f !== keep) fs.rmSync(path.join(outDir, f), { force: true });
  return { bytes: fs.statSync(outFile).size };
}

if (require.main === module) {
  bundlePlugin().then(
    (r) => {
      process.stdout.write(r ? `provider bundle: ${path.relative(process.cwd(), BUNDLE_FILE)} (${Math.round(r.bytes / 1024)} KiB) + code cache\n` : 'provider bundle skipped (esbuild not installed): the provider starts from the module tree\n');
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`provider bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
