/**
 * Control-plane throughput: agent create (with and without an Idempotency-Key), get and list
 * (first page vs. a page 10,000 rows deep), each next to an Express "hello" route served by the
 * same process in the same run. The load generator runs in a child process. Usage: node dist/bench/api.js [postgres|pglite] [seconds]
 */
import express from 'express';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../api/src/config';
import { createLogger } from '../api/src/logger';
import { startServer } from '../api/src/server';
import { uuidv7 } from '../api/src/crypto/ids';
import { startPostgres } from './support/postgres';
import { loadInChild, LoadResult, LoadSpec } from './support/load';

const backend = (process.argv[2] ?? 'postgres') as 'postgres' | 'pglite';
const seconds = Number(process.argv[3] ?? 5);
const CONNECTIONS = 16;

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-bench-'));
  const pg = backend === 'postgres' ? await startPostgres() : undefined;
  const config = loadConfig({ LOG_LEVEL: 'silent', CERTUSORDO_RATE_LIMIT: '1000000' }, {
    PORT: 0, DATABASE_URL: pg?.url('postgres'), CERTUSORDO_DATA_DIR: dataDir,
  });
  const server = await startServer(config, { logger: createLogger('silent') });
  const key = server.bootstrap!.apiKey;
  const auth = { authorization: `Bearer ${key}` };

  const hello = express().get('/hello', (_req, res) => void res.json({ hello: 'world' }));
  const helloServer = http.createServer(hello).listen(0, '127.0.0.1');
  await new Promise((r) => helloServer.once('listening', r));
  const helloUrl = `http://127.0.0.1:${(helloServer.address() as AddressInfo).port}/hello`;

  // Seed 10,000 agents directly, so the deep-page measurement has depth.
  const org = server.bootstrap!.organizationId;
  const now = Date.now();
  const rows = Array.from({ length: 10_000 }, (_, i) => {
    const t = new Date(now - 10_000 + i);
    return { id: uuidv7(now - 10_000 + i), organization_id: org, name: `seed-${i}`, scopes: '[]', metadata: '{}', status: 'active', created_at: t, updated_at: t, status_changed_at: t };
  });
  for (let i = 0; i < rows.length; i += 1000) await server.db.knex('agents').insert(rows.slice(i, i + 1000));
  const deepCursor = Buffer.from(`a1:${rows[9_900]!.id}`).toString('base64url');
  const one = rows[5000]!.id;

  const results: Record<string, LoadResult> = {};
  // "{run}" in a body or header becomes a fresh tag per load, so the measured creates never reuse
  // a name (or Idempotency-Key) of the warm-up's: those would be fast 409s, counted as errors.
  let loads = 0;
  const tagged = (spec: LoadSpec): LoadSpec => {
    const tag = `r${loads++}`;
    const headers = Object.fromEntries(Object.entries(spec.headers ?? {}).map(([k, v]) => [k, v.replace(/\{run\}/g, tag)]));
    return { ...spec, headers, body: spec.body?.replace(/\{run\}/g, tag) };
  };
  const run = async (name: string, spec: LoadSpec) => {
    await loadInChild(tagged({ ...spec, seconds: 1 })); // warm-up: JIT, pools and plan caches
    results[name] = await loadInChild(tagged(spec));
    const r = results[name]!;
    process.stdout.write(`${name.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50ms.toFixed(2)} ms   p99 ${r.p99ms.toFixed(2)} ms   errors ${r.errors}\n`);
  };
  process.stdout.write(`backend=${backend} connections=${CONNECTIONS} seconds=${seconds} node=${process.version} cpus=${os.cpus().length}\n`);
  await run('baseline: express hello', { url: helloUrl, connections: CONNECTIONS, seconds });
  await run('GET /v1/agents/{id}', { url: `${server.url}/v1/agents/${one}`, headers: auth, connections: CONNECTIONS, seconds });
  await run('GET /v1/agents (first page)', { url: `${server.url}/v1/agents?limit=50`, headers: auth, connections: CONNECTIONS, seconds });
  await run('GET /v1/agents (row 9,900)', { url: `${server.url}/v1/agents?limit=50&cursor=${deepCursor}`, headers: auth, connections: CONNECTIONS, seconds });
  await run('POST /v1/agents', {
    url: `${server.url}/v1/agents`, method: 'POST', headers: auth, body: JSON.stringify({ name: 'bench-{run}-{n}', scopes: ['a:read'] }),
    connections: CONNECTIONS, seconds, expectStatus: 201,
  });
  await run('POST /v1/agents (idem. key)', {
    url: `${server.url}/v1/agents`, method: 'POST', headers: { ...auth, 'idempotency-key': 'bench-{run}-{n}' },
    body: JSON.stringify({ name: 'bench-idem-{run}-{n}', scopes: ['a:read'] }), connections: CONNECTIONS, seconds, expectStatus: 201,
  });
  const base = results['baseline: express hello']!.rps;
  process.stdout.write('\nratios to the express hello baseline:\n');
  for (const [k, v] of Object.entries(results)) process.stdout.write(`  ${k.padEnd(28)} ${(v.rps / base).toFixed(2)}\n`);
  process.stdout.write(`deep page / first page: ${(results['GET /v1/agents (row 9,900)']!.rps / results['GET /v1/agents (first page)']!.rps).toFixed(2)}\n`);

  helloServer.close();
  await server.close();
  pg?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
