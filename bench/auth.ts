/**
 * Agent-authentication benchmark on PostgreSQL, with same-run baselines:
 *
 * - token issuance (POST /v1/oauth/token, a fresh private_key_jwt assertion per request) next to a
 *   one-primary-key-lookup route on the same database, served by the same process;
 * - introspection (POST /v1/oauth/introspect) next to an Express "hello" route, same process;
 * - revocation → invisible on another replica: two real server processes share one PostgreSQL;
 *   a token is revoked on A (and, separately, an agent suspended on A) and B is polled until it
 *   reports the token inactive; p50/p99 over many runs.
 *
 * Servers and the load generator are separate processes (this script re-executes itself with
 * `serve`; the load generator is bench/support/load). Usage:
 *   node dist/bench/auth.js [seconds=5] [connections=32] [revocations=200] [rounds=3]
 */
import { fork, ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, randomUUID, sign } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import knexFactory from 'knex';
import { loadConfig } from '../api/src/config';
import { createLogger } from '../api/src/logger';
import { startServer } from '../api/src/server';
import { startPostgres } from './support/postgres';
import { interleavedRounds, LoadSpec } from './support/load';

interface Served {
  url: string;
  baseline: string;
  apiKey: string | null;
}

// ---- child: one control-plane replica (+ the baseline routes in the same process) ------------

async function serve(): Promise<void> {
  const config = loadConfig(process.env, { PORT: 0, HOST: '127.0.0.1' });
  const running = await startServer(config, { logger: createLogger(config.logLevel) });
  const knex = running.db.knex;
  const baseline = express();
  baseline.disable('x-powered-by');
  baseline.get('/hello', (_req, res) => void res.json({ hello: 'world' }));
  baseline.get('/pk/:id', async (req, res) => {
    res.json(await knex('agents').where({ id: req.params.id }).first('id', 'name', 'status'));
  });
  const b = http.createServer(baseline).listen(0, '127.0.0.1');
  await new Promise((r) => b.once('listening', r));
  b.keepAliveTimeout = 5_000;
  const out: Served = { url: running.url, baseline: `http://127.0.0.1:${(b.address() as AddressInfo).port}`, apiKey: running.bootstrap?.apiKey ?? null };
  process.send!(out);
  process.once('SIGTERM', () => void running.close().finally(() => process.exit(0)));
}

function startReplica(env: Record<string, string>): Promise<{ child: ChildProcess; served: Served }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, served: m as Served }));
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}`)));
  });
}

// ---- parent ---------------------------------------------------------------------------------

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Agent {
  id: string;
  seed: string;
}

function assertion(aud: string, a: Agent): string {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(a.seed, 'base64url')]), format: 'der', type: 'pkcs8' });
  const now = Math.floor(Date.now() / 1000);
  const h = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(JSON.stringify({ iss: a.id, sub: a.id, aud, jti: randomUUID(), iat: now, exp: now + 60 })).toString('base64url');
  return `${h}.${p}.${sign(null, Buffer.from(`${h}.${p}`), key).toString('base64url')}`;
}

async function call(url: string, init: { method?: string; headers?: Record<string, string>; json?: unknown; form?: Record<string, string> }): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const connections = Number(process.argv[3] ?? 32);
  const revocations = Number(process.argv[4] ?? 200);
  const rounds = Number(process.argv[5] ?? 3);
  const pg = await startPostgres();
  const children: ChildProcess[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-auth-bench-'));
  try {
    const admin = knexFactory({ client: 'pg', connection: pg.url('postgres'), pool: { min: 0, max: 1 } });
    await admin.raw('create database bench');
    await admin.destroy();
    const env = {
      DATABASE_URL: pg.url('bench'), CERTUSORDO_MASTER_KEY: randomBytes(32).toString('base64url'), CERTUSORDO_DATA_DIR: dataDir,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', CERTUSORDO_RATE_LIMIT: '1000000000',
    };
    const a = await startReplica(env);
    children.push(a.child);
    const b = await startReplica({ ...env, CERTUSORDO_PUBLIC_URL: a.served.url });
    children.push(b.child);
    const A = a.served.url;
    const B = b.served.url;
    const apiKey = a.served.apiKey!;
    const auth = { authorization: `Bearer ${apiKey}` };
    const aud = `${A}/v1/oauth/token`;

    const agents: Agent[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await call(`${A}/v1/agents`, { headers: auth, json: { name: `bench-${i}`, scopes: ['payments:read', 'payments:write'] } });
      const secret = String(r.body.secret);
      agents.push({ id: String(r.body.id), seed: secret.slice('cos_'.length + 36 + 1) }); // cos_<uuid>_<seed>
    }
    const token = async (url: string, ag: Agent) => {
      const r = await call(`${url}/v1/oauth/token`, { form: { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion(aud, ag) } });
      if (r.status !== 200) throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
      return String(r.body.access_token);
    };
    const introspect = async (url: string, t: string) => (await call(`${url}/v1/oauth/introspect`, { headers: auth, form: { token: t } })).body.active === true;

    // Rounds alternate the four loads, so a noisy neighbour (this machine is shared) hits
    // baselines and auth endpoints alike; each figure is the median over the rounds, each ratio
    // the median of the per-round ratios.
    const t = await token(A, agents[0]!);
    const specs: Record<string, Omit<LoadSpec, 'connections' | 'seconds'>> = {
      'baseline: express hello': { url: `${a.served.baseline}/hello` },
      'baseline: pk lookup (same DB)': { url: `${a.served.baseline}/pk/${agents[0]!.id}` },
      'POST /v1/oauth/token': { url: `${A}/v1/oauth/token`, method: 'POST', assertions: { aud, agents } },
      'POST /v1/oauth/introspect': { url: `${A}/v1/oauth/introspect`, method: 'POST', headers: auth, form: new URLSearchParams({ token: t }).toString() },
      'GET /v1/agents/{id}': { url: `${A}/v1/agents/${agents[0]!.id}`, headers: auth },
    };
    process.stdout.write(`node=${process.version} cpus=${os.cpus().length} (${os.cpus()[0]?.model ?? '?'}) seconds=${seconds}x${rounds} rounds connections=${connections} log=${env.LOG_LEVEL} loadavg=${os.loadavg().map((x) => x.toFixed(1)).join('/')}\n`);
    const perRound = await interleavedRounds(specs, {
      connections, seconds, rounds,
      onRound: (round, r) => process.stdout.write(`round ${r + 1}: ${Object.entries(round).map(([n, x]) => `${n.replace('baseline: ', '')} ${x.rps.toFixed(0)}`).join(' | ')}\n`),
    });
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const results: Record<string, { rps: number; p50ms: number; p99ms: number; errors: number }> = {};
    for (const name of Object.keys(specs)) {
      const rs = perRound.map((r) => r[name]!);
      results[name] = { rps: median(rs.map((x) => x.rps)), p50ms: median(rs.map((x) => x.p50ms)), p99ms: median(rs.map((x) => x.p99ms)), errors: rs.reduce((n, x) => n + x.errors, 0) };
      const x = results[name]!;
      process.stdout.write(`${name.padEnd(34)} ${x.rps.toFixed(0).padStart(7)} req/s   p50 ${x.p50ms.toFixed(2).padStart(6)} ms   p99 ${x.p99ms.toFixed(2).padStart(6)} ms   errors ${x.errors}\n`);
    }
    const issuanceRatio = median(perRound.map((r) => r['POST /v1/oauth/token']!.rps / r['baseline: pk lookup (same DB)']!.rps));
    const introspectionRatio = median(perRound.map((r) => r['POST /v1/oauth/introspect']!.rps / r['baseline: express hello']!.rps));
    const getAgentRatio = median(perRound.map((r) => r['GET /v1/agents/{id}']!.rps / r['baseline: pk lookup (same DB)']!.rps));
    process.stdout.write(`token issuance / pk lookup      = ${issuanceRatio.toFixed(2)}x   (target >= 0.6; per round: ${perRound.map((r) => (r['POST /v1/oauth/token']!.rps / r['baseline: pk lookup (same DB)']!.rps).toFixed(2)).join(', ')})\n`);
    process.stdout.write(`introspection  / express hello  = ${introspectionRatio.toFixed(2)}x   (target >= 0.8; per round: ${perRound.map((r) => (r['POST /v1/oauth/introspect']!.rps / r['baseline: express hello']!.rps).toFixed(2)).join(', ')})\n`);
    process.stdout.write(`GET agent      / pk lookup      = ${getAgentRatio.toFixed(2)}x   (target >= 0.8; per round: ${perRound.map((r) => (r['GET /v1/agents/{id}']!.rps / r['baseline: pk lookup (same DB)']!.rps).toFixed(2)).join(', ')})\n`);

    // Revocation on A → inactive on B. B has the token cached as active before each revocation.
    const measure = async (label: string, n: number, prepare: () => Promise<string>, act: (tok: string) => Promise<void>, after?: () => Promise<void>) => {
      const fromResponse: number[] = [];
      const fromRequest: number[] = [];
      let polls = 0;
      for (let i = 0; i < n; i++) {
        const tok = await prepare();
        if (!(await introspect(B, tok))) throw new Error('token not active on B');
        const t0 = performance.now();
        await act(tok);
        const t1 = performance.now();
        while (await introspect(B, tok)) {
          polls++;
          if (performance.now() - t1 > 10_000) throw new Error('still active after 10 s');
        }
        const t2 = performance.now();
        fromResponse.push(t2 - t1);
        fromRequest.push(t2 - t0);
        if (after) await after();
      }
      fromResponse.sort((x, y) => x - y);
      fromRequest.sort((x, y) => x - y);
      process.stdout.write(
        `${label.padEnd(34)} n=${n}  after A's response: p50 ${pct(fromResponse, 50).toFixed(2)} ms  p99 ${pct(fromResponse, 99).toFixed(2)} ms  max ${fromResponse[fromResponse.length - 1]!.toFixed(2)} ms` +
          `   |  from request start: p50 ${pct(fromRequest, 50).toFixed(2)} ms  p99 ${pct(fromRequest, 99).toFixed(2)} ms   (${polls} polls still active)\n`,
      );
      return { p50: pct(fromResponse, 50), p99: pct(fromResponse, 99), p50FromRequest: pct(fromRequest, 50), p99FromRequest: pct(fromRequest, 99), polls };
    };
    let k = 0;
    const revoke = await measure('token revoked on A → inactive on B', revocations, () => token(A, agents[k++ % agents.length]!), async (tok) => {
      const r = await call(`${A}/v1/oauth/revoke`, { headers: auth, form: { token: tok } });
      if (r.status !== 200) throw new Error(`revoke: ${r.status}`);
    });
    const victim = agents[agents.length - 1]!;
    const suspend = await measure('agent suspended on A → inactive on B', Math.max(10, Math.floor(revocations / 4)), async () => {
      const tok = await token(A, victim);
      for (let i = 0; i < 1000 && !(await introspect(B, tok)); i++) await new Promise((r) => setTimeout(r, 1)); // B learns of the reactivation
      return tok;
    }, async () => {
      const r = await call(`${A}/v1/agents/${victim.id}/suspend`, { headers: auth, json: {} });
      if (r.status !== 200) throw new Error(`suspend: ${r.status}`);
    }, async () => {
      await call(`${A}/v1/agents/${victim.id}/activate`, { headers: auth, json: {} });
    });

    process.stdout.write(JSON.stringify({ results, ratios: { issuance_vs_pk: issuanceRatio, introspection_vs_hello: introspectionRatio, get_agent_vs_pk: getAgentRatio }, revoke, suspend }) + '\n');
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    pg.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const job = process.argv[2] === 'serve' ? serve() : main();
  job.catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
