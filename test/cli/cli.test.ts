/**
 * The built CLI (`node dist/cli/main.js`), spawned as a user would run it, against a real control
 * plane. The CLI is rebuilt first when its compiled output is older than the sources.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '../support/server';
import { ensureBuilt } from '../support/build';
import request from 'supertest';
import { createAgent, getToken } from '../auth/helpers';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const BIN = path.join(ROOT, 'bin/certusordo');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let server: TestServer;

/** Runs a command asynchronously against the test server (it lives in this process, so a sync spawn would deadlock). */
function run(command: string, args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      CERTUSORDO_ENDPOINT: server.url,
      CERTUSORDO_API_KEY: server.apiKey,
      ...opts.env,
    };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(command, args, { env, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** The built CLI, or (bin) the repository's bin/certusordo launcher. */
function cli(args: string[], opts: { env?: Record<string, string | undefined>; input?: string; bin?: boolean } = {}): Promise<Result> {
  return opts.bin ? run(BIN, args, opts) : run(process.execPath, [MAIN, ...args], opts);
}

const json = (r: Result) => JSON.parse(r.stdout);

/** util-linux `script` gives the CLI a terminal (stdin, stdout and stderr all on one pty). */
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
function onTerminal(args: string[], input: string): Promise<Result> {
  const command = [process.execPath, MAIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(SCRIPT!, ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH, CERTUSORDO_ENDPOINT: server.url, CERTUSORDO_API_KEY: server.apiKey, TERM: 'dumb' },
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      // answer the prompt once it is shown
      if (input && stdout.includes('[y/N]')) {
        child.stdin.write(input);
        input = '';
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
  });
}

beforeAll(async () => {
  ensureBuilt();
  server = await startTestServer();
}, 180_000);
afterAll(async () => server?.close());

describe('help and usage', () => {
  it('--help everywhere, exit 0, exit codes documented', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/agents[\s\S]*api-keys[\s\S]*audit/);
    expect(top.stdout).toContain('Exit codes: 0 ok, 1 error, 2 usage, 3 not found');
    for (const args of [['agents', '--help'], ['agents', 'create', '--help'], ['agents', 'revoke', '--help'], ['api-keys', 'create', '--help'], ['audit', 'list', '--help']]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: certusordo /);
    }
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['agents', 'frobnicate'])).code).toBe(2);
    expect((await cli(['agents', 'create'])).code).toBe(2); // missing <name>
    expect((await cli(['agents', 'list', '--limit', 'zero'])).code).toBe(2);
    expect((await cli(['agents', 'list', '--status', 'sleeping'])).code).toBe(2);
    expect((await cli(['agents', 'update', 'some-id'])).code).toBe(2); // nothing to update
    const noKey = await cli(['agents', 'list'], { env: { CERTUSORDO_API_KEY: undefined } });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('CERTUSORDO_API_KEY');
  });

  it('bin/certusordo runs the compiled CLI', async () => {
    const r = await cli(['--version'], { bin: true });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('agents', () => {
  it('create prints the agent and its secret once, with a warning on stderr', async () => {
    const r = await cli(['agents', 'create', 'cli-payment-processor', '-s', 'payments:read', '--scope', 'payments:write', '-m', 'team=payments']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ID: +[0-9a-f-]{36}$/m);
    expect(r.stdout).toMatch(/^Scopes: +payments:read payments:write$/m);
    expect(r.stdout).toMatch(/^Metadata: +team=payments$/m);
    expect(r.stdout).toMatch(/^Secret: +cos_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}$/m);
    expect(r.stderr).toMatch(/WARNING: store the secret now/);
  });

  it('--json output is the SDK object; get/list/update/suspend/activate round-trip', async () => {
    const created = json(await cli(['agents', 'create', 'cli-json', '--scope', 'data:read,reports:read', '--json']));
    expect(created).toMatchObject({ name: 'cli-json', scopes: ['data:read', 'reports:read'], status: 'active', lastAuthAt: null });
    expect(created.secret).toMatch(/^cos_/);

    const got = json(await cli(['agents', 'get', created.id, '--json']));
    expect(got).toMatchObject({ id: created.id, name: 'cli-json' });
    expect(got).not.toHaveProperty('secret');

    const table = await cli(['agents', 'list', '--name-prefix', 'cli-json']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +NAME +STATUS +LAST AUTH +CREATED +SCOPES$/);
    expect(table.stdout).toContain(created.id);
    expect(table.stdout).toMatch(/cli-json +active +never/);

    const updated = json(await cli(['--json', 'agents', 'update', created.id, '--name', 'cli-json-2', '-m', 'env=prod']));
    expect(updated).toMatchObject({ name: 'cli-json-2', metadata: { env: 'prod' }, scopes: ['data:read', 'reports:read'] });

    expect(json(await cli(['agents', 'suspend', created.id, '--reason', 'maintenance', '--json'])).status).toBe('suspended');
    const listed = json(await cli(['agents', 'list', '--status', 'suspended', '--json']));
    expect(listed.map((a: { id: string }) => a.id)).toContain(created.id);
    expect(json(await cli(['agents', 'activate', created.id, '--json'])).status).toBe('active');
  });

  it('may_act: set on create and update, one grant at a time with grant-act and revoke-act', async () => {
    const actor = json(await cli(['agents', 'create', 'cli-actor', '--json']));
    const other = json(await cli(['agents', 'create', 'cli-actor-2', '--json']));
    const subject = json(await cli(['agents', 'create', 'cli-subject', '--may-act', actor.id, '--json']));
    expect(subject.mayAct).toEqual([actor.id]);
    expect((await cli(['agents', 'get', subject.id])).stdout).toMatch(new RegExp(`May act: +${actor.id}`));
    expect(json(await cli(['agents', 'update', subject.id, '--clear-may-act', '--json'])).mayAct).toEqual([]);
    const granted = await cli(['agents', 'grant-act', subject.id, other.id]);
    expect(granted.code).toBe(0);
    expect(granted.stdout).toMatch(new RegExp(`Actor: +${other.id}`));
    expect(json(await cli(['agents', 'get', subject.id, '--json'])).mayAct).toEqual([other.id]);
    expect((await cli(['agents', 'revoke-act', subject.id, other.id])).stdout).toContain(`Agent ${other.id} may no longer act for agent ${subject.id}.`);
    const unknown = await cli(['agents', 'update', subject.id, '--may-act', '00000000-0000-4000-8000-000000000000']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no agent with this id in the organization');
    expect((await cli(['agents', 'update', subject.id, '--may-act', actor.id, '--clear-may-act'])).code).toBe(2);
  });

  it('list walks every page and --limit stops early', async () => {
    for (let i = 0; i < 4; i++) expect((await cli(['agents', 'create', `cli-many-${i}`, '--json'])).code).toBe(0);
    const all = json(await cli(['agents', 'list', '--name-prefix', 'cli-many-', '--json']));
    expect(all.map((a: { name: string }) => a.name)).toEqual(['cli-many-0', 'cli-many-1', 'cli-many-2', 'cli-many-3']);
    const some = json(await cli(['agents', 'list', '--name-prefix', 'cli-many-', '--limit', '3', '--json']));
    expect(some).toHaveLength(3);
    const never = json(await cli(['agents', 'list', '--name-prefix', 'cli-many-', '--never-authenticated', '--inactive-since', '1h', '--json']));
    expect(Array.isArray(never)).toBe(true);
    // not a terminal: no progress indicator on stderr
    expect((await cli(['agents', 'list', '--name-prefix', 'cli-many-'])).stderr).toBe('');
  });

  it('revoke asks for confirmation: without a terminal and without --yes it refuses (exit 2)', async () => {
    const a = json(await cli(['agents', 'create', 'cli-revoke', '--json']));
    const refused = await cli(['agents', 'revoke', a.id], { input: 'y\n' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(json(await cli(['agents', 'get', a.id, '--json'])).status).toBe('active');

    const done = await cli(['agents', 'revoke', a.id, '--yes', '--reason', 'compromised']);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^Status: +revoked$/m);

    // a revoked agent cannot be reactivated: conflict (exit 5)
    const again = await cli(['agents', 'activate', a.id]);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/^error: /);
  });

  it('an operator key suspends; activate and revoke need an admin key (exit 4, the role named)', async () => {
    const a = json(await cli(['agents', 'create', 'cli-incident', '--json']));
    const env = { env: { CERTUSORDO_API_KEY: await server.createApiKey('operator') } };
    expect((await cli(['agents', 'suspend', a.id, '--reason', 'incident'], env)).code).toBe(0);
    const activate = await cli(['agents', 'activate', a.id], env);
    expect(activate.code).toBe(4);
    expect(activate.stderr).toContain('This call needs the admin role; the key has operator');
    expect((await cli(['agents', 'revoke', a.id, '--yes'], env)).code).toBe(4);
    expect(json(await cli(['agents', 'get', a.id, '--json'])).status).toBe('suspended');
    // Help text is wrapped to the terminal's width.
    const help = async (command: string) => (await cli(['agents', command, '--help'])).stdout.replace(/\s+/g, ' ');
    expect(await help('activate')).toContain('Needs an admin key');
    expect(await help('revoke')).toContain('Needs an admin key');
    expect(await help('suspend')).toContain('Needs an operator or admin key');
  });

  it('exit codes: not found 3, validation 6, conflict 5, auth 4, permission 4, network 7', async () => {
    const nf = await cli(['agents', 'get', '00000000-0000-4000-8000-000000000000']);
    expect(nf.code).toBe(3);
    expect(nf.stderr).toMatch(/request id: /);

    const invalid = await cli(['agents', 'create', 'bad name!', '--scope', 'NOPE']);
    expect(invalid.code).toBe(6);
    expect(invalid.stderr).toMatch(/- name: /);

    const invalidJson = await cli(['agents', 'create', '', '--json']);
    expect(invalidJson.code).toBe(6);
    expect(JSON.parse(invalidJson.stderr)).toMatchObject({ error: { code: 'validation_error', status: 400 }, exit_code: 6 });

    await cli(['agents', 'create', 'cli-dup']);
    expect((await cli(['agents', 'create', 'cli-dup'])).code).toBe(5);

    const badKey = await cli(['agents', 'list'], { env: { CERTUSORDO_API_KEY: 'aa_not_a_real_key_0000000000' } });
    expect(badKey.code).toBe(4);
    expect(badKey.stderr).not.toContain('aa_not_a_real_key_0000000000');

    const readerKey = await server.createApiKey('reader');
    const denied = await cli(['agents', 'create', 'cli-denied'], { env: { CERTUSORDO_API_KEY: readerKey } });
    expect(denied.code).toBe(4);

    const down = await cli(['agents', 'list'], { env: { CERTUSORDO_ENDPOINT: 'http://127.0.0.1:9' } });
    expect(down.code).toBe(7);
    expect(down.stderr).toContain('could not reach');
  }, 30_000);

  it('takes an agent name wherever it takes an id; a revoked agent is found by id only', async () => {
    const bot = json(await cli(['agents', 'create', 'cli-billing-bot', '--json']));
    const got = await cli(['agents', 'get', 'cli-billing-bot', '--json']);
    expect(got.code).toBe(0);
    expect(json(got)).toMatchObject({ id: bot.id, name: 'cli-billing-bot' });
    expect(json(await cli(['agents', 'update', 'cli-billing-bot', '-m', 'team=billing', '--json'])).metadata).toEqual({ team: 'billing' });
    expect(json(await cli(['agents', 'suspend', 'cli-billing-bot', '--json'])).status).toBe('suspended');
    expect(json(await cli(['agents', 'activate', 'cli-billing-bot', '--json'])).status).toBe('active');
    expect(json(await cli(['agents', 'keys', 'list', 'cli-billing-bot', '--json']))).toHaveLength(1);
    const events = json(await cli(['audit', 'list', '--agent', 'cli-billing-bot', '--json']));
    expect(events.map((e: { action: string }) => e.action)).toEqual(['agent.activated', 'agent.suspended', 'agent.updated', 'agent.created']);
    expect(events.every((e: { targetId: string }) => e.targetId === bot.id)).toBe(true);
    expect(json(await cli(['sessions', 'list', '--agent', 'cli-billing-bot', '--json']))).toEqual([]);

    // no such name: exit 3, a message that names what was looked for
    const unknown = await cli(['agents', 'get', 'cli-no-such-bot']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('No agent is named "cli-no-such-bot"');
    const unknownJson = await cli(['agents', 'suspend', 'cli-no-such-bot', '--json']);
    expect(unknownJson.code).toBe(3);
    expect(JSON.parse(unknownJson.stderr)).toMatchObject({ error: { code: 'not_found', status: 404 }, exit_code: 3 });

    // revoked: the name no longer resolves, the id still does; a new agent may take the name
    expect((await cli(['agents', 'revoke', 'cli-billing-bot', '--yes'])).code).toBe(0);
    const gone = await cli(['agents', 'get', 'cli-billing-bot']);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain('a revoked one was');
    expect(json(await cli(['agents', 'get', bot.id, '--json'])).status).toBe('revoked');
    const successor = json(await cli(['agents', 'create', 'cli-billing-bot', '--json']));
    expect(json(await cli(['agents', 'get', 'cli-billing-bot', '--json'])).id).toBe(successor.id);
  });

  it('--endpoint and --api-key flags replace the environment', async () => {
    const r = await cli(['--endpoint', server.url, '--api-key', server.apiKey, 'agents', 'list', '--json'], {
      env: { CERTUSORDO_ENDPOINT: undefined, CERTUSORDO_API_KEY: undefined },
    });
    expect(r.code).toBe(0);
    expect(Array.isArray(json(r))).toBe(true);
  });
});

describe('api-keys', () => {
  it('create prints the key once; list hides keys; revoke needs --yes off a terminal', async () => {
    const created = await cli(['api-keys', 'create', '--name', 'cli-ops', '--role', 'operator', '--json']);
    expect(created.code).toBe(0);
    const key = json(created);
    expect(key).toMatchObject({ name: 'cli-ops', role: 'operator' });
    expect(key.key).toMatch(/^aa_/);
    expect(created.stderr).toContain('WARNING');

    const list = await cli(['api-keys', 'list']);
    expect(list.stdout).toMatch(/cli-ops +operator/);
    expect(list.stdout).not.toContain(key.key);

    // the new key works, with the operator role
    expect((await cli(['agents', 'list', '--json'], { env: { CERTUSORDO_API_KEY: key.key } })).code).toBe(0);

    expect((await cli(['api-keys', 'create', '--name', 'x', '--role', 'root'])).code).toBe(2);
    expect((await cli(['api-keys', 'revoke', key.id])).code).toBe(2);
    const revoked = await cli(['api-keys', 'revoke', key.id, '--yes', '--json']);
    expect(revoked.code).toBe(0);
    expect(json(revoked).revokedAt).toEqual(expect.any(String));
    expect((await cli(['agents', 'list'], { env: { CERTUSORDO_API_KEY: key.key } })).code).toBe(4);
  });
});

describe('audit', () => {
  it('list shows the trail of an agent; verify reports an intact chain', async () => {
    const a = json(await cli(['agents', 'create', 'cli-audited', '--json']));
    await cli(['agents', 'suspend', a.id, '--reason', 'audit-check']);
    const events = json(await cli(['audit', 'list', '--agent', a.id, '--json']));
    expect(events.map((e: { action: string }) => e.action)).toEqual(['agent.suspended', 'agent.created']);
    const oldest = json(await cli(['audit', 'list', '--agent', a.id, '--oldest-first', '--limit', '1', '--json']));
    expect(oldest.map((e: { action: string }) => e.action)).toEqual(['agent.created']);
    const table = await cli(['audit', 'list', '--agent', a.id]);
    expect(table.stdout.split('\n')[0]).toMatch(/^SEQ +TIME +ACTION +OUTCOME +ACTOR +TARGET +REASON$/);
    expect(table.stdout).toMatch(/agent\.suspended +success .*audit-check/);
    expect(json(await cli(['audit', 'list', '--action', 'agent.suspended', '--since', '1h', '--limit', '1', '--json']))).toHaveLength(1);

    const verify = await cli(['audit', 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^Audit chain intact: \d+ events checked\.$/m);
    expect(json(await cli(['audit', 'verify', '--json']))).toMatchObject({ valid: true });
  });
});

(SCRIPT ? describe : describe.skip)('on a terminal', () => {
  it('revoke asks [y/N]: "n" cancels (exit 1), "y" revokes', async () => {
    const a = json(await cli(['agents', 'create', 'cli-tty-revoke', '--json']));
    const no = await onTerminal(['agents', 'revoke', a.id], 'n\r');
    expect(no.stdout).toContain(`Revoke agent cli-tty-revoke (${a.id})? This is permanent and cannot be undone. [y/N]`);
    expect(no.code).toBe(1);
    expect(no.stdout).toContain('cancelled; nothing was changed');
    expect(json(await cli(['agents', 'get', a.id, '--json'])).status).toBe('active');

    const yes = await onTerminal(['agents', 'revoke', a.id, '--reason', 'tty test'], 'y\r');
    expect(yes.code).toBe(0);
    expect(yes.stdout).toMatch(/Status: +revoked/);
  });

  it('listings show a progress indicator on stderr', async () => {
    await cli(['agents', 'create', 'cli-tty-list']);
    const r = await onTerminal(['agents', 'list', '--name-prefix', 'cli-tty-list'], '');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Fetched 1 agents…/);
    expect(r.stdout).toMatch(/cli-tty-list +active/);
  });
});

describe('server text on a terminal', () => {
  it('control characters, ANSI escapes and bidi overrides an agent chose are shown escaped; --json keeps them exact and inert', async () => {
    const ESC = '\u001b';
    const hostile = `${ESC}]0;pwned${ESC}\\${ESC}[2J${ESC}[31mred\r\u202eevil\u0085`;
    const admin = { Authorization: `Bearer ${server.apiKey}` };
    const agent = await createAgent(server, { name: 'cli-ansi', scopes: ['a:read'] });
    await request(server.url).patch(`/v1/agents/${agent.id}`).set(admin).send({ metadata: { note: hostile } }).expect(200);
    await request(server.url).post(`/v1/agents/${agent.id}/suspend`).set(admin).send({ reason: hostile }).expect(200);
    await request(server.url).post(`/v1/agents/${agent.id}/activate`).set(admin).send({}).expect(200);
    const token = await getToken(server, agent);
    const session = await request(server.url).post('/v1/sessions').set('Authorization', `Bearer ${token}`).send({ scopes: ['a:read'], purpose: hostile }).expect(201);

    const shown = [
      await cli(['agents', 'get', agent.id]),
      await cli(['sessions', 'get', session.body.id]),
      await cli(['sessions', 'list', '--agent', agent.id]),
      await cli(['audit', 'list', '--agent', agent.id]),
    ];
    for (const r of shown) {
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    }
    expect(shown[0]!.stdout).toContain('note=\\u001b]0;pwned\\u001b\\\\u001b[2J\\u001b[31mred\\u000d\\u202eevil\\u0085');
    expect(shown[1]!.stdout).toContain('\\u001b[31mred');
    const asJson = [await cli(['sessions', 'get', session.body.id, '--json']), await cli(['agents', 'get', agent.id, '--json'])];
    expect(json(asJson[0]!).purpose).toBe(hostile);
    expect(json(asJson[1]!).metadata.note).toBe(hostile);
    // Exact values, inert text: JSON escapes C0 itself; C1 (U+0085 here) and bidi overrides are escaped too.
    for (const r of asJson) expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  });
});

describe('output piped into a reader that stops early', () => {
  it('ends quietly with status 0 instead of an EPIPE stack trace (`… | head`)', async () => {
    // More JSON than a pipe buffers (64 KiB), so the CLI is still writing when head has exited.
    const names = Array.from({ length: 260 }, (_, i) => `piped-${i}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(
        names.slice(i, i + 20).map(async (name) => {
          const res = await fetch(`${server.url}/v1/agents`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ name, metadata: { padding: 'x'.repeat(200) } }),
          });
          expect(res.status).toBe(201);
        }),
      );
    }
    const command = `set -o pipefail; '${process.execPath}' '${MAIN}' agents list --json | head -c 100 > /dev/null`;
    const result = await run('bash', ['-c', command]);
    expect(result.stderr).not.toMatch(/EPIPE|Error/);
    expect(result.code).toBe(0);
  });
});
