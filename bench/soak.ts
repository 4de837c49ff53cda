/**
 * Soak: two replicas on one PostgreSQL under a steady mixed load (token issuance, introspection on
 * the other replica, agent creates and lists, suspend/activate, revocations, sessions, audit
 * reads) at about half the measured capacity, for 20 minutes by default. Each minute it prints,
 * per operation, the count, errors, p50 and p99; each replica's RSS; PostgreSQL's table and index
 * sizes; and the database connections. At the end it compares the last ten minutes: RSS, p99 and
 * the sizes of the tables that retention purges (spent jtis, revoked tokens, finished sessions,
 * idempotency records) should each grow by at most 10 %. The audit log and the agents table grow
 * by design (append-only evidence; revoked agents are kept): they are reported as bytes per
 * operation, which must stay constant rather than bounded.
 *
 * Retention settings are short (tokens 120 s, finished sessions and idempotency records 60 s) so
 * that several purge cycles happen within the run; PostgreSQL runs with the fast settings of the
 * other benches (fsync off), since the soak looks for growth, not for disk cost.
 *
 * Usage: node dist/bench/soak.js [--minutes 20] [--rate <ops/s>] [--calibrate-seconds 10]
 *   --rate: the offered load; default half the capacity measured by a closed-loop calibration.
 */
import { createPrivateKey, KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import { startPostgres } from './support/postgres';
import { Replica, startReplica, stopReplicas } from './support/replica';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const PURGED_TABLES = ['assertion_jtis', 'revoked_tokens', 'sessions', 'idempotency_keys'];
const GROWING_TABLES = ['audit_events', 'agents', 'agent_keys'];
const MAX_IN_FLIGHT = 256;

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

interface Agent {
  id: string;
  key: KeyObject;
}

type Op = 'token' | 'introspect' | 'session' | 'revoke' | 'create' | 'list' | 'suspend_activate' | 'audit';

/** The mix: weights per operation. */
const MIX: [Op, number][] = [
  ['token', 35], ['introspect', 25], ['session', 10], ['revoke', 5], ['create', 5], ['list', 10], ['suspend_activate', 5], ['audit', 5],
];

class Stats {
  private lat = new Map<Op, number[]>();
  private errs = new Map<Op, number>();
  dropped = 0;
  add(op: Op, ms: number, ok: boolean): void {
    (this.lat.get(op) ?? this.lat.set(op, []).get(op)!).push(ms);
    if (!ok) this.errs.set(op, (this.errs.get(op) ?? 0) + 1);
  }
  take(): Record<string, { n: number; errors: number; p50: number; p99: number }> {
    const out: Record<string, { n: number; errors: number; p50: number; p99: number }> = {};
    for (const [op] of MIX) {
      const xs = (this.lat.get(op) ?? []).sort((a, b) => a - b);
      const q = (p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]! : NaN);
      out[op] = { n: xs.length, errors: this.errs.get(op) ?? 0, p50: q(0.5), p99: q(0.99) };
    }
    this.lat.clear();
    this.errs.clear();
    return out;
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function sizes(db: Knex): Promise<Record<string, number>> {
  const rows = (await db.raw(
    `select c.relname as name, pg_total_relation_size(c.oid) as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r' and c.relname = any(?)`,
    [[...PURGED_TABLES, ...GROWING_TABLES]],
  )).rows as { name: string; bytes: string }[];
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
}

async function main(): Promise<void> {
  const minutes = arg('minutes') ?? 20;
  const calibrateSeconds = arg('calibrate-seconds') ?? 10;
  const pg = await startPostgres();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-soak-'));
  const replicas: Replica[] = [];
  const admin = knexFactory({ client: 'pg', connection: pg.url('postgres'), pool: { min: 0, max: 2 } });
  let db: Knex | undefined;
  try {
    await admin.raw('create database soak');
    db = knexFactory({ client: 'pg', connection: pg.url('soak'), pool: { min: 0, max: 2 } });
    const env = {
      DATABASE_URL: pg.url('soak'), CERTUSORDO_MASTER_KEY: randomBytes(32).toString('base64url'), CERTUSORDO_DATA_DIR: dataDir,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', CERTUSORDO_RATE_LIMIT: '1000000000', CERTUSORDO_TOKEN_RATE_LIMIT: '1000000000',
      CERTUSORDO_TOKEN_TTL: '120', CERTUSORDO_SESSION_RETENTION: '60', CERTUSORDO_IDEMPOTENCY_TTL: '60',
    };
    replicas.push(await startReplica(env));
    replicas.push(await startReplica({ ...env, CERTUSORDO_PUBLIC_URL: replicas[0]!.url }));
    const [A, B] = replicas.map((r) => r.url) as [string, string];
    const auth = { authorization: `Bearer ${replicas[0]!.apiKey!}` };
    const aud = `${A}/v1/oauth/token`;

    const call = async (url: string, init: { method?: string; json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {}) => {
      const headers: Record<string, string> = { ...init.headers };
      let body: string | undefined;
      if (init.json !== undefined) [headers['content-type'], body] = ['application/json', JSON.stringify(init.json)];
      else if (init.form) [headers['content-type'], body] = ['application/x-www-form-urlencoded', new URLSearchParams(init.form).toString()];
      const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    };

    const agents: Agent[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await call(`${A}/v1/agents`, { headers: auth, json: { name: `soak-${i}`, scopes: ['payments:read', 'payments:write'] } });
      const seed = String(r.body.secret).slice('cos_'.length + 36 + 1); // cos_<uuid>_<seed>
      agents.push({ id: String(r.body.id), key: createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(seed, 'base64url')]), format: 'der', type: 'pkcs8' }) });
    }
    const victims: string[] = [];
    for (let i = 0; i < 10; i++) victims.push(String((await call(`${A}/v1/agents`, { headers: auth, json: { name: `soak-victim-${i}`, scopes: ['payments:read'] } })).body.id));

    const assertion = (a: Agent) => {
      const now = Math.floor(Date.now() / 1000);
      const h = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })).toString('base64url');
      const p = Buffer.from(JSON.stringify({ iss: a.id, sub: a.id, aud, jti: randomUUID(), iat: now, exp: now + 60 })).toString('base64url');
      return `${h}.${p}.${sign(null, Buffer.from(`${h}.${p}`), a.key).toString('base64url')}`;
    };
    const recent: string[] = [];
    let n = 0;
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
    const ops: Record<Op, () => Promise<boolean>> = {
      token: async () => {
        const r = await call(`${n % 2 ? A : B}/v1/oauth/token`, { form: { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion(pick(agents)) } });
        if (r.status === 200) {
          recent.push(String(r.body.access_token));
          if (recent.length > 500) recent.shift();
        }
        return r.status === 200;
      },
      introspect: async () => recent.length === 0 || (await call(`${n % 2 ? B : A}/v1/oauth/introspect`, { headers: auth, form: { token: pick(recent) } })).status === 200,
      session: async () => {
        if (recent.length === 0) return true;
        const r = await call(`${n % 2 ? A : B}/v1/sessions`, { headers: { authorization: `Bearer ${recent[recent.length - 1]!}` }, json: { ttl_seconds: 30, purpose: 'soak' } });
        // A token revoked or expired meanwhile is refused as it should be; only 5xx is an error.
        if (r.status === 201) await call(`${n % 2 ? A : B}/v1/sessions/${String(r.body.id)}`, { method: 'DELETE', headers: auth });
        return r.status < 500;
      },
      revoke: async () => recent.length === 0 || (await call(`${A}/v1/oauth/revoke`, { headers: auth, form: { token: recent.splice(Math.floor(Math.random() * recent.length), 1)[0]! } })).status === 200,
      create: async () => {
        const r = await call(`${B}/v1/agents`, { headers: { ...auth, 'idempotency-key': randomUUID() }, json: { name: `soak-c-${randomUUID()}`, scopes: ['payments:read'] } });
        if (r.status !== 201) return false;
        return (await call(`${A}/v1/agents/${String(r.body.id)}/revoke`, { headers: auth, json: {} })).status === 200;
      },
      list: async () => (await call(`${n % 2 ? A : B}/v1/agents?limit=50&status=active`, { headers: auth })).status === 200,
      suspend_activate: async () => {
        const v = pick(victims);
        const s1 = await call(`${A}/v1/agents/${v}/suspend`, { headers: auth, json: {} });
        const s2 = await call(`${B}/v1/agents/${v}/activate`, { headers: auth, json: {} });
        // Two operations on one victim may interleave: a 409 (already in that state) is fine.
        return s1.status < 500 && s2.status < 500;
      },
      audit: async () => (await call(`${B}/v1/audit-events?limit=50`, { headers: auth })).status === 200,
    };
    const total = MIX.reduce((s, [, w]) => s + w, 0);
    const nextOp = (): Op => {
      let x = Math.random() * total;
      for (const [op, w] of MIX) if ((x -= w) < 0) return op;
      return 'token';
    };
    const stats = new Stats();
    let inFlight = 0;
    const run = async (op: Op) => {
      inFlight++;
      n++;
      const t0 = performance.now();
      let ok = false;
      try {
        ok = await ops[op]();
      } catch {
        ok = false;
      } finally {
        inFlight--;
      }
      stats.add(op, performance.now() - t0, ok);
    };

    // Calibration: a closed loop of 32 workers for a few seconds gives the mix's capacity.
    let rate = arg('rate');
    if (rate === undefined) {
      const until = Date.now() + calibrateSeconds * 1000;
      let done = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (Date.now() < until) {
          await run(nextOp());
          done++;
        }
      }));
      stats.take();
      rate = Math.max(1, Math.round(done / calibrateSeconds / 2));
      process.stdout.write(`calibration: ${(done / calibrateSeconds).toFixed(0)} ops/s closed-loop; offering ${rate} ops/s\n`);
    }
    process.stdout.write(`node=${process.version} cpus=${os.cpus().length} minutes=${minutes} rate=${rate} ops/s mix=${MIX.map(([o, w]) => `${o}:${w}`).join(',')}\n`);

    // Open loop: `rate` operations a second, in 10 ms slots; past MAX_IN_FLIGHT they are dropped (counted).
    interface Minute { minute: number; ops: ReturnType<Stats['take']>; rss: number[]; sizes: Record<string, number>; connections: number; dropped: number; done: number; vacuums: number }
    const minutesOut: Minute[] = [];
    const start = Date.now();
    let issued = 0;
    const ticker = setInterval(() => {
      const due = Math.floor(((Date.now() - start) / 1000) * rate!);
      for (; issued < due; issued++) {
        if (inFlight >= MAX_IN_FLIGHT) stats.dropped++;
        else void run(nextOp());
      }
    }, 10);
    let doneBefore = 0;
    // Autovacuum and autoanalyze runs so far: a run on the audit log competes for the same two cores, so it explains a minute's p99.
    const soakDb = db;
    const vacuumRuns = async () => Number((await soakDb.raw(`select coalesce(sum(autovacuum_count + autoanalyze_count), 0) as n from pg_stat_user_tables`)).rows[0].n);
    let vacuumsBefore = await vacuumRuns();
    try {
      for (let m = 1; m <= minutes; m++) {
        await new Promise((r) => setTimeout(r, start + m * 60_000 - Date.now()));
        const o = stats.take();
        const done = Object.values(o).reduce((s, x) => s + x.n, 0);
        const conns = Number((await admin.raw(`select count(*) from pg_stat_activity where datname = 'soak'`)).rows[0].count);
        const vacuumsNow = await vacuumRuns();
        const row: Minute = { minute: m, ops: o, rss: replicas.map((r) => rssMb(r.pid)), sizes: await sizes(db), connections: conns, dropped: stats.dropped, done: doneBefore + done, vacuums: vacuumsNow - vacuumsBefore };
        vacuumsBefore = vacuumsNow;
        doneBefore += done;
        stats.dropped = 0;
        minutesOut.push(row);
        const kb = (b: number | undefined) => ((b ?? 0) / 1024).toFixed(0);
        process.stdout.write(
          `min ${String(m).padStart(2)} | ${Object.entries(o).map(([op, x]) => `${op} ${x.n}${x.errors ? `(${x.errors}e)` : ''} p50 ${x.p50.toFixed(1)} p99 ${x.p99.toFixed(1)}`).join(' | ')}` +
            ` | rss ${row.rss.map((x) => x.toFixed(0)).join('/')} MB | kB ${Object.entries(row.sizes).map(([t, b]) => `${t} ${kb(b)}`).join(' ')} | conns ${conns} | autovacuum runs ${row.vacuums}${row.dropped ? ` | dropped ${row.dropped}` : ''}\n`,
        );
      }
    } finally {
      clearInterval(ticker);
    }

    // The verdict over the last ten minutes (or the second half of a shorter run).
    const span = Math.min(10, Math.floor(minutes / 2));
    if (span >= 1) {
      const from = minutesOut[minutesOut.length - 1 - span]!;
      const to = minutesOut[minutesOut.length - 1]!;
      const growth = (a: number, b: number) => (a > 0 ? b / a - 1 : 0);
      const checks: [string, number][] = [];
      // A per-minute sample is noisy (p99 on a shared machine; RSS rises and falls with garbage
      // collection): compare the median of the window's first third with that of its last third.
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const thirds = (samples: number[]): number => {
        const window = samples.filter((x) => Number.isFinite(x));
        const third = Math.max(1, Math.floor(window.length / 3));
        return window.length >= 2 ? growth(med(window.slice(0, third)), med(window.slice(-third))) : 0;
      };
      const lastMinutes = minutesOut.slice(-span - 1);
      replicas.forEach((_r, i) => checks.push([`replica ${i + 1} RSS`, thirds(lastMinutes.map((x) => x.rss[i]!))]));
      for (const [op] of MIX) checks.push([`${op} p99`, thirds(lastMinutes.map((x) => x.ops[op]!.p99))]);
      for (const t of PURGED_TABLES) checks.push([`${t} size`, growth(from.sizes[t] ?? 0, to.sizes[t] ?? 0)]);
      process.stdout.write(`\nlast ${span} minutes (min ${from.minute} → ${to.minute}):\n`);
      for (const [name, g] of checks) process.stdout.write(`  ${name.padEnd(28)} ${(g * 100).toFixed(1).padStart(6)} %  ${g <= 0.1 ? 'ok' : 'GROWS'}\n`);
      const ops = to.done - from.done;
      for (const t of GROWING_TABLES) {
        const perOp = ops > 0 ? ((to.sizes[t] ?? 0) - (from.sizes[t] ?? 0)) / ops : NaN;
        process.stdout.write(`  ${`${t} (by design)`.padEnd(28)} ${perOp.toFixed(0).padStart(6)} bytes per operation\n`);
      }
      process.stdout.write(JSON.stringify({ rate, minutes: minutesOut, checks: Object.fromEntries(checks) }) + '\n');
    }
  } finally {
    await stopReplicas(replicas.map((r) => r.child));
    await db?.destroy();
    await admin.destroy();
    pg.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
