/**
 * docs/guide.md, the project's guide to managing agents: its TypeScript blocks, in order, are one
 * program. It is type-checked with the repository's strict compiler options (the SDK by its
 * package name, as a user imports it), then run against a real control plane with the environment
 * a user sets (CERTUSORDO_API_KEY, CERTUSORDO_ENDPOINT); what it prints and what it leaves behind
 * are checked. Its Python blocks are run the same way by python/tests/test_docs_guide.py.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import * as sdk from '../../sdk/src';
import { startTestServer, type TestServer } from '../support/server';

const ROOT = path.resolve(__dirname, '../..');
const GUIDE = path.join(ROOT, 'docs/guide.md');
/** Where the program is type-checked as if it were a file of the repository (never written). */
const VIRTUAL = path.join(ROOT, 'docs/guide.blocks.ts');

/** The fenced blocks of one language, in document order. */
function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(/^```([a-z]+)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === lang).map((m) => m[2]!);
}

const markdown = fs.readFileSync(GUIDE, 'utf8');
const program = blocks(markdown, 'ts').join('\n');

function typeErrors(source: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  // ES modules here only so that top-level await type-checks: the blocks are read as one module.
  const options: ts.CompilerOptions = { ...config.options, module: ts.ModuleKind.ES2022, noEmit: true, sourceMap: false };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, ...rest) => (path.resolve(file) === VIRTUAL ? ts.createSourceFile(file, source, language) : getSourceFile(file, language, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => path.resolve(file) === VIRTUAL || fileExists(file);
  const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram([VIRTUAL], options, host));
  return diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

type Guide = (require: (id: string) => unknown, exports: object, console: Pick<Console, 'log'>) => Promise<void>;
const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => Guide;

/** Runs the program with the SDK as its `@certusordo/sdk`, and returns what it printed. */
async function run(source: string, env: Record<string, string>): Promise<string[]> {
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const lines: string[] = [];
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const requireSdk = (id: string) => {
      if (id !== '@certusordo/sdk') throw new Error(`the guide imports ${id}: only @certusordo/sdk is expected`);
      return sdk;
    };
    await new AsyncFunction('require', 'exports', 'console', js)(requireSdk, {}, { log: (...args: unknown[]) => void lines.push(args.map(String).join(' ')) });
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return lines;
}

describe('docs/guide.md', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('shows each step in both languages, side by side', () => {
    const python = blocks(markdown, 'python');
    expect(python.length).toBeGreaterThanOrEqual(9);
    expect(blocks(markdown, 'ts')).toHaveLength(python.length);
    // Each TypeScript block follows its Python block directly.
    const fences = [...markdown.matchAll(/^```([a-z]+)$/gm)].map((m) => m[1]).filter((l) => l === 'python' || l === 'ts');
    for (let i = 0; i < fences.length; i += 2) expect([fences[i], fences[i + 1]]).toEqual(['python', 'ts']);
  });

  it('its TypeScript blocks type-check strictly as one program', () => {
    expect(typeErrors(program)).toEqual([]);
    // The check is live: a wrong call is reported.
    expect(typeErrors(program.replace("client.agents.suspend(agent.id, 'incident", "client.agents.suspend(agent, 'incident")).length).toBeGreaterThan(0);
  }, 120_000);

  it('its TypeScript blocks run as written against a real control plane', async () => {
    const lines = await run(program, { CERTUSORDO_API_KEY: server.apiKey, CERTUSORDO_ENDPOINT: server.url });
    const admin = new sdk.CertusOrdoClient({ apiKey: server.apiKey, baseUrl: server.url });
    const [agent] = (await admin.agents.listPage({ name: 'guide-billing-bot' })).data;
    expect(agent).toMatchObject({ name: 'guide-billing-bot', status: 'revoked', scopes: ['billing:read'], metadata: { team: 'billing', env: 'prod' } });
    expect(lines).toEqual([
      `created guide-billing-bot (${agent!.id}), active`,
      expect.stringMatching(/^refused: .*resource:action/),
      'scopes now billing:read',
      'token active: true, scope: billing:read',
      expect.stringMatching(/^rotated to key [A-Za-z0-9_-]{43}$/),
      'session active: 1 of 2 operations used',
      'suspended: no token',
      expect.stringMatching(/^\d+ agent\.activated by api_key incident 42 closed$/),
      'chain valid: true',
      'guide-billing-bot is revoked',
    ]);
    // The refused create created nothing; the rotation left the old key revoked and the new one in place.
    expect((await admin.agents.listPage({ name: 'guide-bad-scope' })).data).toEqual([]);
    const keys = await admin.agents.keys.list(agent!.id);
    expect(keys.map((k) => k.status).sort()).toEqual(['active', 'revoked']);
    expect(keys.find((k) => k.status === 'active')!.kid).toBe(/^rotated to key (.+)$/.exec(lines[4]!)![1]);
    const actions: string[] = [];
    for await (const e of admin.auditEvents.list({ agentId: agent!.id })) actions.push(e.action);
    expect(actions).toEqual(expect.arrayContaining(['agent.created', 'agent.updated', 'agent_key.created', 'agent_key.revoked', 'agent.suspended', 'agent.activated', 'agent.revoked']));
  }, 120_000);
});
