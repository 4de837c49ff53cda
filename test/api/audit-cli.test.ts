/**
 * `certusordo audit checkpoint > cp.jws` and `certusordo audit verify --checkpoint cp.jws`, and the
 * SDK calls under them, against a real server. The CLI runs in-process (its exported `run`, which
 * never exits the process), so the suite runs on both backends without a build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../../cli/main';
import { CertusOrdoClient } from '../../sdk/src';
import { startTestServer, TestServer } from '../support/server';
import { client } from '../support/http';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  for (let i = 0; i < 3; i++) await client(s.url, s.apiKey).post('/v1/agents', { name: `cli-${i}` }).expect(201);
});
afterAll(async () => s?.close());

async function cli(args: string[], apiKey = s.apiKey): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { write: stdoutWrite } = process.stdout;
  const { write: stderrWrite } = process.stderr;
  process.stdout.write = ((chunk: unknown) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await run(['node', 'certusordo', '--endpoint', s.url, '--api-key', apiKey, ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    process.exitCode = undefined;
  }
}

test('checkpoint prints the raw JWS; verify --checkpoint proves the log extends it and exits 1 once the tail is cut', async () => {
  const file = path.join(s.store.dataDir, 'cp.jws');
  const cp = await cli(['audit', 'checkpoint']);
  expect(cp.code).toBe(0);
  expect(cp.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
  fs.writeFileSync(file, cp.stdout);
  const seq = JSON.parse(Buffer.from(cp.stdout.split('.')[1]!, 'base64url').toString()).seq as number;

  await client(s.url, s.apiKey).post('/v1/agents', { name: 'cli-after' }).expect(201);
  const ok = await cli(['audit', 'verify', '--checkpoint', file]);
  expect(ok).toMatchObject({ code: 0 });
  expect(ok.stdout).toMatch(/^Audit chain intact: \d+ events checked\.$/m);
  expect(ok.stdout).toContain(`The log extends the checkpoint at seq ${seq}.`);
  const asJson = JSON.parse((await cli(['audit', 'verify', '--checkpoint', file, '--json'])).stdout);
  expect(asJson).toMatchObject({ valid: true, firstBrokenSeq: null, seq: seq + 1 });
  expect(JSON.parse((await cli(['audit', 'checkpoint', '--json'])).stdout)).toMatchObject({ orgId: s.organizationId, seq: seq + 1 });

  // Someone with database access cuts the last events off, moves the head back and removes the verified point.
  const db = s.running.db.knex;
  const org = s.organizationId;
  const keep = seq - 1;
  await db.transaction(async (tx) => {
    await tx.raw('alter table audit_events disable trigger user');
    const last = await tx('audit_events').where({ organization_id: org, seq: keep }).first();
    await tx('audit_events').where({ organization_id: org }).andWhere('seq', '>', keep).delete();
    await tx('audit_chain_heads').where({ organization_id: org }).update({ last_seq: keep, last_hash: last.hash });
    await tx('audit_verified_points').where({ organization_id: org }).delete();
    await tx.raw('alter table audit_events enable trigger user');
  });
  expect((await cli(['audit', 'verify'])).code).toBe(0); // without the checkpoint, the shortened log looks whole
  const cut = await cli(['audit', 'verify', '--checkpoint', file]);
  expect(cut.code).toBe(1);
  expect(cut.stdout).toContain(`Audit chain BROKEN at seq ${keep + 1}: the log ends at seq ${keep} but the checkpoint covers seq ${seq}`);

  const missing = await cli(['audit', 'verify', '--checkpoint', path.join(s.store.dataDir, 'nope.jws')]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/cannot read the checkpoint file/);
});

test('SDK: auditEvents.checkpoint() and verify({checkpoint, full})', async () => {
  const other = await s.createOrganization('admin');
  const sdk = new CertusOrdoClient({ apiKey: other.apiKey, baseUrl: s.url });
  const cp = await sdk.auditEvents.checkpoint();
  expect(cp).toMatchObject({ orgId: other.organizationId, seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/), createdAt: expect.any(Date) });
  expect(await sdk.auditEvents.verify({ checkpoint: cp.checkpoint })).toMatchObject({ valid: true, seq: cp.seq, fromSeq: cp.seq, eventsChecked: 0 });
  expect(await sdk.auditEvents.verify({ full: true })).toMatchObject({ valid: true, fromSeq: 0, eventsChecked: cp.seq });
  expect(await sdk.auditEvents.verify()).toMatchObject({ valid: true, firstBrokenSeq: null });
  // Another organization's checkpoint does not verify here.
  const mine = new CertusOrdoClient({ apiKey: s.apiKey, baseUrl: s.url });
  expect(await mine.auditEvents.verify({ checkpoint: cp.checkpoint })).toMatchObject({ valid: false, firstBrokenSeq: null, reason: expect.stringMatching(/another organization/) });
});
