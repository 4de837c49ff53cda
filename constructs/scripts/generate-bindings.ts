/**
 * Generates the L1 bindings in constructs/.gen/ from the provider bridge's own schema with
 * @cdktf/provider-generator: no registry, no download, no `terraform` — the schema is the one the
 * provider serves over GetProviderSchema, exported as `terraform providers schema -json` prints it.
 *
 *   npm run generate            # rewrites constructs/.gen/
 *
 * The test in test/constructs/bindings.test.ts regenerates into a temporary directory and fails
 * when the checked-in bindings differ. Never edit constructs/.gen/ by hand.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { providerSchemaJson } from '../../provider-bridge/src/schema-json';

/** `<namespace>/<name>` as in `required_providers`; matches the provider's registry address. */
export const PROVIDER_SOURCE = 'certusordo/certusordo';
/** Written into the generated provider's `required_providers` version constraint. */
export const PROVIDER_VERSION_CONSTRAINT = '~> 0.1';
/** Where the checked-in bindings live (relative to the repository root). */
export const BINDINGS_DIR = 'constructs/.gen';

/**
 * Writes the bindings for our provider into `outDir` (replacing what is there).
 * The generator packages are required lazily, after telemetry and the version check are disabled:
 * importing @cdktf/commons otherwise runs `terraform version` and phones home.
 */
export async function generateBindings(outDir: string): Promise<void> {
  process.env.CHECKPOINT_DISABLE = '1';
  // Importing the generator module directly: the package index pulls in jsii/jsii-pacmak.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { CodeMaker } = require('codemaker') as typeof import('codemaker');
  // @cdktf/commons also spawns `terraform version -json` at import, even with CHECKPOINT_DISABLE.
  // Generation needs no terraform: point that probe at a name that does not exist (its failure is
  // caught inside commons) so no process runs and nothing is printed.
  const binary = process.env.TERRAFORM_BINARY_NAME;
  process.env.TERRAFORM_BINARY_NAME = 'certusordo-bindings-generation-runs-no-terraform';
  let commons: typeof import('@cdktf/commons');
  try {
    commons = require('@cdktf/commons') as typeof import('@cdktf/commons');
  } finally {
    if (binary === undefined) delete process.env.TERRAFORM_BINARY_NAME;
    else process.env.TERRAFORM_BINARY_NAME = binary;
  }
  const { TerraformProviderGenerator } =
    require('@cdktf/provider-generator/lib/get/generator/provider-generator') as typeof import('@cdktf/provider-generator/lib/get/generator/provider-generator');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const code = new CodeMaker();
  const schema = providerSchemaJson() as unknown as import('@cdktf/commons').ProviderSchema;
  const generator = new TerraformProviderGenerator(code, schema);
  const constraint = new commons.TerraformProviderConstraint(`${PROVIDER_SOURCE}@${PROVIDER_VERSION_CONSTRAINT}`);
  generator.generate(commons.ConstructsMakerTarget.from(constraint, commons.Language.TYPESCRIPT));
  rmSync(outDir, { recursive: true, force: true });
  await generator.save(outDir);
  addOverrideModifiers(outDir);
}

/**
 * The generator predates `noImplicitOverride`, which this repository compiles with. Rather than
 * relaxing the compiler for generated code, type-check the fresh files with the project's options
 * and insert `override` wherever TypeScript asks for it (TS4114/TS4115/TS4116), once, at generation.
 */
export function addOverrideModifiers(dir: string): void {
  /* eslint-disable-next-line @typescript-eslint/no-require-imports */
  const ts = require('typescript') as typeof import('typescript');
  const root = repositoryRoot();
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error('cannot read tsconfig.json');
  // The files may live outside the repository (a temporary copy): no rootDir, nothing emitted.
  const options = { ...parsed.options, noEmit: true, rootDir: undefined, outDir: undefined, sourceMap: false };
  const files = [...readTree(dir).keys()].filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
  const host = ts.createCompilerHost(options);
  // The directory may be outside the repository (a temporary copy): resolve packages from the root.
  const anchor = join(root, 'constructs', 'index.ts');
  host.resolveModuleNames = (names, containing) =>
    names.map((n) => ts.resolveModuleName(n, n.startsWith('.') ? containing : anchor, options, ts.sys).resolvedModule);
  const program = ts.createProgram(files, options, host);
  const MISSING_OVERRIDE = new Set([4114, 4115, 4116]);
  const edits = new Map<string, number[]>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (!d.file || d.start === undefined || !files.includes(resolvePath(d.file.fileName))) continue;
    if (!MISSING_OVERRIDE.has(d.code)) {
      throw new Error(`generated bindings do not compile: ${d.file.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
    let node: import('typescript').Node | undefined = findNode(ts, d.file, d.start);
    while (node && !ts.isClassElement(node) && !ts.isParameter(node)) node = node.parent;
    if (!node || !ts.canHaveModifiers(node)) throw new Error(`cannot place override at ${d.file.fileName}:${d.start}`);
    // `override` goes after an accessibility modifier and before `readonly`/`get`/`set`.
    const access = (ts.getModifiers(node) ?? []).find((m) =>
      [ts.SyntaxKind.PublicKeyword, ts.SyntaxKind.ProtectedKeyword, ts.SyntaxKind.PrivateKeyword].includes(m.kind));
    const at = access ? access.getEnd() + 1 : node.getStart(d.file);
    const list = edits.get(d.file.fileName) ?? [];
    if (!list.includes(at)) list.push(at);
    edits.set(d.file.fileName, list);
  }
  for (const [file, positions] of edits) {
    let text = readFileSync(file, 'utf8');
    for (const at of positions.sort((a, b) => b - a)) text = `${text.slice(0, at)}override ${text.slice(at)}`;
    writeFileSync(file, text);
  }
}

function findNode(ts: typeof import('typescript'), sf: import('typescript').SourceFile, pos: number): import('typescript').Node {
  let found: import('typescript').Node = sf;
  const visit = (n: import('typescript').Node): void => {
    if (n.getStart(sf) <= pos && pos < n.getEnd()) {
      found = n;
      ts.forEachChild(n, visit);
    }
  };
  ts.forEachChild(sf, visit);
  return found;
}

/** Every file under `dir`, as relative path → contents. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

/** Generates into a temporary directory and lists the files that differ from `checkedIn`. */
export async function staleBindings(checkedIn: string): Promise<string[]> {
  const fresh = mkdtempSync(join(tmpdir(), 'certusordo-gen-'));
  try {
    await generateBindings(fresh);
    const want = readTree(fresh);
    const have = readTree(checkedIn);
    const names = [...new Set([...want.keys(), ...have.keys()])].sort();
    return names.filter((n) => want.get(n) !== have.get(n));
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

/** The nearest directory above this file holding cdktf.json (works from source and from dist/). */
export function repositoryRoot(): string {
  for (let d = __dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'cdktf.json'))) return d;
    if (dirname(d) === d) throw new Error('cdktf.json not found above ' + __dirname);
  }
}

if (require.main === module) {
  const out = join(repositoryRoot(), BINDINGS_DIR);
  generateBindings(out).then(
    () => console.log(`generated ${readTree(out).size} files in ${relative(process.cwd(), out) || '.'}`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
