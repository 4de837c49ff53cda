/**
 * CertusOrdo against the reference OAuth server for Node (node-oidc-provider), configured for the
 * same job: client credentials with private_key_jwt (Ed25519), JWT access tokens with an RFC 8707
 * audience, and introspection with client authentication. Each server runs in its own process,
 * the load generator in a third (bench/support/load), same machine, rounds interleaved.
 *
 * CertusOrdo runs on PostgreSQL with its durable defaults (fsync, synchronous_commit and
 * full_page_writes on): every token is recorded (assertion jti), audited and counted in
 * last_auth_at before it is answered. The peer keeps its state in memory (its default adapter: no
 * durability, no audit). The peer will not introspect its own JWT access tokens, so its
 * introspection figure is for opaque tokens (a memory lookup); CertusOrdo introspects its JWTs
 * (signature, revocation, agent status).
 *
 * Usage: node dist/bench/peer.js [seconds=4] [connections=32] [rounds=3]
 */
import { execFileSync, fork, ChildProcess } from 'node:child_process';
import { generateKeyPairSync, KeyObject, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import knexFactory from 'knex';
import { startReplica, stopReplicas } from './support/replica';
import { startPostgres } from './support/postgres';
import { interleavedRounds, LoadResult, LoadSpec } from './support/load';
import { machineScheduling, postmasterPid, threadCpuSeconds, treeCpuSeconds } from './support/cpu';

const SCOPES = 'payments:read payments:write';
/** The audience both servers put in their JWT access tokens. */
const JWT_RESOURCE = 'https://api.example';
/** The peer's opaque-token resource (the one it introspects). */
const OPAQUE_RESOURCE = 'https://opaque.example';
const TOKEN_TTL_SECONDS = 300;

interface Client {
  id: string;
  /** base64url Ed25519 seed (what the load generator signs with). */
  seed: string;
  jwk: Record<string, unknown>;
}

interface Served {
  url: string;
}

// ---- children ---------------------------------------------------------------------------------

/** oidc-provider is ESM only; this bench is compiled to CommonJS, whose `import()` would become require(). */
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<{
  default: new (issuer: string, config: unknown) => { callback(): http.RequestListener };
  errors: { InvalidTarget: new () => Error };
}>;

async function servePeer(): Promise<void> {
  const clients = JSON.parse(process.env.PEER_CLIENTS!) as { id: string; jwk: Record<string, unknown> }[];
  const { default: Provider, errors } = await importEsm('oidc-provider');
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  server.keepAliveTimeout = 5_000;
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signing = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [
      ...clients.map((c) => ({
        client_id: c.id, token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'EdDSA',
        jwks: { keys: [c.jwk] }, id_token_signed_response_alg: 'EdDSA', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: SCOPES,
      })),
      { client_id: 'introspector', client_secret: process.env.PEER_INTROSPECTOR_SECRET!, token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'EdDSA', grant_types: [], response_types: [], redirect_uris: [] },
    ],
    jwks: { keys: [{ ...signing, kid: 'peer-1', alg: 'EdDSA', use: 'sig' }] },
    scopes: SCOPES.split(' '),
    ttl: { ClientCredentials: TOKEN_TTL_SECONDS },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // The introspecting client is the resource server's, trusted for every token (as an API key is here).
      introspection: { enabled: true, allowedPolicy: () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => JWT_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator === JWT_RESOURCE) return { scope: SCOPES, audience: JWT_RESOURCE, accessTokenTTL: TOKEN_TTL_SECONDS, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'EdDSA' } } };
          if (indicator === OPAQUE_RESOURCE) return { scope: SCOPES, audience: OPAQUE_RESOURCE, accessTokenTTL: TOKEN_TTL_SECONDS, accessTokenFormat: 'opaque' };
          throw new errors.InvalidTarget();
        },
      },
    },
  });
  server.on('request', provider.callback());
  process.send!({ url: issuer } satisfies Served);
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

function start(mode: string, env: Record<string, string>): Promise<{ child: ChildProcess; served: Served }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [mode], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, served: m as Served }));
    child.once('exit', (code) => reject(new Error(`${mode} exited with ${code}`)));
  });
}

// ---- parent -----------------------------------------------------------------------------------


async function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function newClient(id: string): Client {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { id, seed: String((privateKey.export({ format: 'jwk' }) as { d: string }).d), jwk: (publicKey as KeyObject).export({ format: 'jwk' }) as Record<string, unknown> };
}

/** CertusOrdo's rate over the peer's for one path in one round. */
function ratio(round: Record<string, LoadResult>, path: 'token' | 'introspect'): number {
  const ours = round[path === 'token' ? 'certusordo token' : 'certusordo introspect']!;
  const peer = round[path === 'token' ? 'peer token (JWT)' : 'peer introspect (opaque)']!;
  return ours.rps / peer.rps;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 4);
  const connections = Number(process.argv[3] ?? 32);
  const rounds = Number(process.argv[4] ?? 3);
  // BENCH_PG_STATEMENTS=1: also print what each statement cost PostgreSQL (pg_stat_statements).
  const statementStats = process.env.BENCH_PG_STATEMENTS === '1';
  const pg = await startPostgres({ durable: true, statementStats });
  const children: ChildProcess[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-peer-bench-'));
  try {
    const admin = knexFactory({ client: 'pg', connection: pg.url('postgres'), pool: { min: 0, max: 1 } });
    await admin.raw('create database bench');
    if (statementStats) {
      const bench = knexFactory({ client: 'pg', connection: pg.url('bench'), pool: { min: 0, max: 1 } });
      await bench.raw('create extension pg_stat_statements');
      await bench.destroy();
    }
    const settings = (await admin.raw(`select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes') order by name`)).rows as { name: string; setting: string }[];
    await admin.destroy();

    const ours = await startReplica({
      DATABASE_URL: pg.url('bench'), CERTUSORDO_MASTER_KEY: randomBytes(32).toString('base64url'), CERTUSORDO_DATA_DIR: dataDir,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', CERTUSORDO_RATE_LIMIT: '1000000000', CERTUSORDO_TOKEN_RATE_LIMIT: '1000000000',
      CERTUSORDO_TOKEN_TTL: String(TOKEN_TTL_SECONDS),
    });
    children.push(ours.child);
    const A = ours.url;
    const auth = { authorization: `Bearer ${ours.apiKey!}` };
    const agents: Client[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${A}/v1/agents`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: `peer-bench-${i}`, scopes: SCOPES.split(' ') }) });
      const body = (await res.json()) as { id: string; secret: string };
      agents.push({ id: body.id, seed: body.secret.slice('cos_'.length + 36 + 1), jwk: {} }); // cos_<uuid>_<seed>
    }

    const peerClients = Array.from({ length: 20 }, () => newClient(randomUUID()));
    const introspectorSecret = randomBytes(32).toString('base64url');
    const peer = await start('serve-peer', { PEER_CLIENTS: JSON.stringify(peerClients.map((c) => ({ id: c.id, jwk: c.jwk }))), PEER_INTROSPECTOR_SECRET: introspectorSecret });
    children.push(peer.child);
    const P = peer.served.url;
    const peerBasic = { authorization: `Basic ${Buffer.from(`introspector:${introspectorSecret}`).toString('base64')}` };

    // One token of each kind to introspect, and a check that both servers answer what the loads expect.
    const { assertionPool } = await import('./support/assertions');
    const oursForm = { aud: `${A}/v1/oauth/token`, agents, extraForm: `&resource=${encodeURIComponent(JWT_RESOURCE)}` };
    const peerJwtForm = { aud: P, agents: peerClients, clientId: true, extraForm: `&resource=${encodeURIComponent(JWT_RESOURCE)}&scope=${encodeURIComponent(SCOPES)}` };
    const peerOpaqueForm = { ...peerJwtForm, extraForm: `&resource=${encodeURIComponent(OPAQUE_RESOURCE)}&scope=${encodeURIComponent(SCOPES)}` };
    const formOf = (body: string) => Object.fromEntries(new URLSearchParams(body));
    const ourToken = await post(`${A}/v1/oauth/token`, formOf(assertionPool(oursForm, 1)()));
    const peerJwt = await post(`${P}/token`, formOf(assertionPool(peerJwtForm, 1)()));
    const peerOpaque = await post(`${P}/token`, formOf(assertionPool(peerOpaqueForm, 1)()));
    for (const [name, r] of [['certusordo token', ourToken], ['peer JWT token', peerJwt], ['peer opaque token', peerOpaque]] as const) {
      if (r.status !== 200) throw new Error(`${name}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const jwtPayload = JSON.parse(Buffer.from(String(peerJwt.body.access_token).split('.')[1]!, 'base64url').toString()) as { aud: unknown };
    if (jwtPayload.aud !== JWT_RESOURCE) throw new Error(`peer JWT aud is ${JSON.stringify(jwtPayload.aud)}`);
    const checks = [
      await post(`${A}/v1/oauth/introspect`, { token: String(ourToken.body.access_token) }, auth),
      await post(`${P}/token/introspection`, { token: String(peerOpaque.body.access_token) }, peerBasic),
    ];
    if (!checks.every((c) => c.status === 200 && c.body.active === true)) throw new Error(`introspection check failed: ${JSON.stringify(checks)}`);

    const allSpecs: Record<string, Omit<LoadSpec, 'connections' | 'seconds'>> = {
      'certusordo token': { url: `${A}/v1/oauth/token`, method: 'POST', assertions: oursForm },
      'peer token (JWT)': { url: `${P}/token`, method: 'POST', assertions: peerJwtForm },
      'certusordo introspect': { url: `${A}/v1/oauth/introspect`, method: 'POST', headers: auth, form: new URLSearchParams({ token: String(ourToken.body.access_token) }).toString() },
      'peer introspect (opaque)': { url: `${P}/token/introspection`, method: 'POST', headers: peerBasic, form: new URLSearchParams({ token: String(peerOpaque.body.access_token) }).toString() },
    };
    // BENCH_ONLY (a regular expression over the load names) runs some loads alone, e.g. under a profiler.
    const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
    const specs = Object.fromEntries(Object.entries(allSpecs).filter(([name]) => !only || only.test(name)));
    process.stdout.write(
      `node=${process.version} cpus=${os.cpus().length} (${os.cpus()[0]?.model ?? '?'}) seconds=${seconds}x${rounds} rounds connections=${connections} ` +
        `postgres: ${settings.map((s) => `${s.name}=${s.setting}`).join(' ')} loadavg=${os.loadavg().map((x) => x.toFixed(1)).join('/')}\n`,
    );
    const postmaster = postmasterPid(path.join(pg.dir, 'data'));
    // Committed transactions of the bench database (PostgreSQL's statistics, which lag by up to a second).
    const commits = () => Number(execFileSync('psql', ['-Atc', "select xact_commit from pg_stat_database where datname = 'bench'", pg.url('postgres')]).toString());
    // One walk of /proc per sample gives both scheduling counters (the counters are read in this order).
    let scheduling = { running: 0, waiting: 0 };
    const cpu = { certusordo: () => treeCpuSeconds(ours.pid), 'certusordo main': () => threadCpuSeconds(ours.pid, ours.pid), postgres: () => treeCpuSeconds(postmaster), peer: () => treeCpuSeconds(peer.child.pid!), commits,
      'machine running': () => (scheduling = machineScheduling()).running, 'machine waiting': () => scheduling.waiting };
    const perRound = await interleavedRounds(specs, {
      connections, seconds, rounds, cpu,
      onRound: (round, r) => {
        const ratios = only ? '' : ` | issuance ${ratio(round, 'token').toFixed(2)}x introspection ${ratio(round, 'introspect').toFixed(2)}x`;
        process.stdout.write(`round ${r + 1}: ${Object.entries(round).map(([n, x]) => `${n} ${x.rps.toFixed(0)}${x.errors ? ` (${x.errors} errors)` : ''}`).join(' | ')}${ratios}\n`);
      },
    });
    for (const name of Object.keys(specs)) {
      const rs = perRound.map((r) => r[name]!);
      process.stdout.write(`${name.padEnd(26)} ${median(rs.map((x) => x.rps)).toFixed(0).padStart(7)} req/s   p50 ${median(rs.map((x) => x.p50ms)).toFixed(2).padStart(6)} ms   p99 ${median(rs.map((x) => x.p99ms)).toFixed(2).padStart(6)} ms   errors ${rs.reduce((n, x) => n + x.errors, 0)}\n`);
    }
    process.stdout.write('CPU per request (µs, median over rounds; the load generator is its own process) and PostgreSQL commits per request:\n');
    for (const name of Object.keys(specs)) {
      const perRequest = (x: LoadResult, k: string) => ((k === 'load' ? x.loadCpuSeconds : x.cpuSeconds![k]!) * 1e6) / x.requests;
      const rs = perRound.map((r) => r[name]!);
      const commitsPerRequest = median(rs.map((x) => x.cpuSeconds!.commits! / x.requests));
      process.stdout.write(`  ${name.padEnd(26)} ${['certusordo', 'certusordo main', 'postgres', 'peer', 'load'].map((k) => `${k} ${median(rs.map((x) => perRequest(x, k))).toFixed(0).padStart(5)}`).join('   ')}   commits/request ${commitsPerRequest.toFixed(3)}\n`);
      // Cores busy, and how long runnable threads waited for a core per request: when waiting is of the
      // order of the CPU per request, the machine's cores, not either server, bound the rate.
      const busy = median(rs.map((x) => x.cpuSeconds!['machine running']! / (x.requests / x.rps)));
      process.stdout.write(`  ${''.padEnd(26)} machine: ${busy.toFixed(2)} of ${os.cpus().length} cores busy, runnable threads waited ${median(rs.map((x) => perRequest(x, 'machine waiting'))).toFixed(0)} µs per request for a core\n`);
    }
    // last_auth_at is stamped on every token: those updates must stay HOT (no index entry written),
    // which the never_authenticated marker (first_auth_at, indexed where null) relies on.
    const hot = execFileSync('psql', ['-Atc', "select n_tup_upd || ' ' || n_tup_hot_upd from pg_stat_user_tables where relname = 'agents'", pg.url('bench')]).toString().trim().split(' ').map(Number);
    process.stdout.write(`agents row updates: ${hot[0]}, HOT (no index entry written): ${hot[1]} (${((100 * hot[1]!) / Math.max(1, hot[0]!)).toFixed(1)} %)\n`);
    if (statementStats) {
      const top = execFileSync('psql', ['-Atc', `select calls, round(mean_exec_time::numeric, 3), plans, round(mean_plan_time::numeric, 3), round((rows::numeric / greatest(calls, 1)), 1), round(total_exec_time::numeric), left(regexp_replace(query, '\\s+', ' ', 'g'), 90)
        from pg_stat_statements where dbid = (select oid from pg_database where datname = 'bench') order by total_exec_time desc limit 10`, pg.url('bench')]).toString();
      process.stdout.write(`PostgreSQL statements by total time (calls | mean ms | plans | mean plan ms | rows per call | total ms | text):\n${top}`);
    }
    if (only) return;
    const issuance = perRound.map((r) => ratio(r, 'token'));
    const introspection = perRound.map((r) => ratio(r, 'introspect'));
    process.stdout.write(`token issuance / peer = ${median(issuance).toFixed(2)}x (rounds ${range(issuance)}; target >= 1.2)\n`);
    process.stdout.write(`introspection  / peer = ${median(introspection).toFixed(2)}x (rounds ${range(introspection)}; target >= 1.2)\n`);
    process.stdout.write(JSON.stringify({ postgres: Object.fromEntries(settings.map((s) => [s.name, s.setting])), rounds: perRound, ratios: { issuance, introspection } }) + '\n');
  } finally {
    await stopReplicas(children);
    pg.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const mode = process.argv[2];
  const job = mode === 'serve-peer' ? servePeer() : main();
  job.catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
