/**
 * Registry-style docs (tfplugindocs layout) generated from the schema objects the provider
 * serves, plus the HCL examples under examples/terraform/. A test asserts the checked-in
 * provider-bridge/docs equal a fresh generation:
 *   npm run docs:provider           # rewrite provider-bridge/docs
 *   npm run docs:provider -- --check
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataSources, ephemeralResources, providerSchema, resources } from '../provider';
import { attributeNames, blockNames, typeToDocName, type AttributeSchema, type BlockSchema, type NestedBlockSchema, type SchemaDef } from '../schema/types';
import { dataSourceNotes, ephemeralResourceNotes, providerNotes, resourceNotes } from './notes';

const PROVIDER = 'certusordo';

export function repoRoot(): string {
  // Works from provider-bridge/src/docs and from dist/provider-bridge/src/docs.
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'provider-bridge', 'proto'))) return dir;
  }
  throw new Error('repository root not found');
}

function frontMatter(title: string, description: string): string {
  const desc = description.split('\n').map((l) => `  ${l}`).join('\n');
  return `---\npage_title: "${title}"\nsubcategory: ""\ndescription: |-\n${desc}\n---\n`;
}

function attributeLine(name: string, a: AttributeSchema): string {
  const flags = [typeToDocName(a.type), ...(a.sensitive ? ['Sensitive'] : [])].join(', ');
  return `- \`${name}\` (${flags}) ${a.description}`;
}

function blockLine(name: string, b: NestedBlockSchema): string {
  const flags = [`Block ${b.nesting === 'set' ? 'Set' : 'List'}`, ...(b.maxItems ? [`Max: ${b.maxItems}`] : [])].join(', ');
  return `- \`${name}\` (${flags}) ${b.block.description} (see [below for nested schema](#nestedblock--${name}))`;
}

const GROUPS: ReadonlyArray<[string, (a: AttributeSchema) => boolean]> = [
  ['Required', (a) => a.required === true],
  ['Optional', (a) => a.optional === true],
  ['Read-Only', (a) => a.computed === true && !a.optional],
];

/** Attribute groups of one block; nested blocks are optional (none is required) and follow, as tfplugindocs lays them out. */
function blockSection(block: BlockSchema, heading: (title: string) => string): string[] {
  const out: string[] = [];
  for (const [title, pick] of GROUPS) {
    const names = attributeNames(block).filter((n) => pick(block.attributes[n]!));
    const blocks = title === 'Optional' ? blockNames(block) : [];
    if (!names.length && !blocks.length) continue;
    const lines = [...names.map((n) => attributeLine(n, block.attributes[n]!)), ...blocks.map((n) => blockLine(n, block.blocks![n]!))];
    out.push(heading(title), '', ...lines.sort(), '');
  }
  for (const name of blockNames(block)) {
    out.push(`<a id="nestedblock--${name}"></a>`, `### Nested Schema for \`${name}\``, '', ...blockSection(block.blocks![name]!.block, (t) => `${t}:`));
  }
  return out;
}

function schemaSection(schema: SchemaDef): string {
  return ['<!-- schema generated from the provider schema; do not edit -->', '## Schema', '', ...blockSection(schema.block, (t) => `### ${t}`)].join('\n');
}

function example(root: string, rel: string, lang: string): string | null {
  const p = path.join(root, 'examples', 'terraform', rel);
  if (!fs.existsSync(p)) return null;
  return `\`\`\`${lang}\n${fs.readFileSync(p, 'utf8').trimEnd()}\n\`\`\``;
}

function page(parts: Array<string | null>): string {
  return parts.filter((p): p is string => p !== null).join('\n\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

/** Relative path (under provider-bridge/docs) → content. */
export function generateDocs(root: string = repoRoot()): Record<string, string> {
  const out: Record<string, string> = {};
  const providerExample = example(root, 'provider/provider.tf', 'terraform');
  out['index.md'] = page([
    frontMatter(`${PROVIDER} Provider`, providerSchema.block.description),
    `# ${PROVIDER} Provider`,
    providerSchema.block.description,
    providerExample && `## Example Usage\n\n${providerExample}`,
    '## Installing without a registry\n\nThe provider is installed into a local filesystem mirror, and Terraform finds it there through a CLI configuration file:\n\n```sh\nnpx certusordo provider install --write-config ~/.terraform.d/certusordo.tfrc\nexport TF_CLI_CONFIG_FILE=~/.terraform.d/certusordo.tfrc\nterraform init\n```\n\n`terraform init` then works offline. Its warning "Incomplete lock file information for providers" is expected: Terraform computed the checksum from the local mirror, for this platform only (see the provider README).',
    schemaSection(providerSchema),
    providerNotes,
  ]);
  for (const r of resources) {
    const short = r.typeName.replace(`${PROVIDER}_`, '');
    const ex = example(root, `resources/${r.typeName}/resource.tf`, 'terraform');
    const imp = example(root, `resources/${r.typeName}/import.sh`, 'shell');
    out[`resources/${short}.md`] = page([
      frontMatter(`${r.typeName} Resource - ${PROVIDER}`, r.schema.block.description),
      `# ${r.typeName} (Resource)`,
      r.schema.block.description,
      ex && `## Example Usage\n\n${ex}`,
      schemaSection(r.schema),
      resourceNotes[r.typeName] ?? null,
      imp && `## Import\n\nImport is supported using the following syntax:\n\n${imp}`,
    ]);
  }
  for (const d of dataSources) {
    const short = d.typeName.replace(`${PROVIDER}_`, '');
    const ex = example(root, `data-sources/${d.typeName}/data-source.tf`, 'terraform');
    out[`data-sources/${short}.md`] = page([
      frontMatter(`${d.typeName} Data Source - ${PROVIDER}`, d.schema.block.description),
      `# ${d.typeName} (Data Source)`,
      d.schema.block.description,
      ex && `## Example Usage\n\n${ex}`,
      schemaSection(d.schema),
      dataSourceNotes[d.typeName] ?? null,
    ]);
  }
  for (const e of ephemeralResources) {
    const short = e.typeName.replace(`${PROVIDER}_`, '');
    const ex = example(root, `ephemeral-resources/${e.typeName}/ephemeral-resource.tf`, 'terraform');
    out[`ephemeral-resources/${short}.md`] = page([
      frontMatter(`${e.typeName} Ephemeral Resource - ${PROVIDER}`, e.schema.block.description),
      `# ${e.typeName} (Ephemeral Resource)`,
      e.schema.block.description,
      ex && `## Example Usage\n\n${ex}`,
      schemaSection(e.schema),
      ephemeralResourceNotes[e.typeName] ?? null,
    ]);
  }
  return out;
}

/** Writes (or with check=true, compares) provider-bridge/docs; returns the paths that differ. */
export function writeDocs(root: string = repoRoot(), check = false): string[] {
  const docsDir = path.join(root, 'provider-bridge', 'docs');
  const stale: string[] = [];
  for (const [rel, content] of Object.entries(generateDocs(root))) {
    const p = path.join(docsDir, rel);
    const current = fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
    if (current === content) continue;
    stale.push(rel);
    if (!check) {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
    }
  }
  return stale;
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const stale = writeDocs(repoRoot(), check);
  if (check && stale.length) {
    process.stderr.write(`provider docs are stale: ${stale.join(', ')}; run npm run docs:provider\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(stale.length ? `${check ? 'stale' : 'wrote'}: ${stale.join(', ')}\n` : 'provider docs up to date\n');
  }
}
