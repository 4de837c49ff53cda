/**
 * Resource-server verification per request (docs/mcp.md "What each protection stops"): the kit's
 * check of one agent token, sequentially, in three modes against one control plane on PostgreSQL:
 *
 * - offline: signature, issuer, audience, expiry (keys fetched once);
 * - introspection, cached: as a busy server sees it, each token re-confirmed at most every 500 ms;
 * - introspection, uncached (cacheTtlMs 0): one control-plane round trip per request, the worst case;
 * - DPoP: offline, plus the proof of a DPoP-bound token (RFC 9449), a fresh proof per request
 *   (made before the clock starts, so the client's signing is not counted).
 *
 * Each figure is printed with its ratio to the offline mode measured in the same run (this machine
 * is shared). Usage: npm run build && node dist/bench/mcp-verify.js [requests=2000] [rounds=3]
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import knexFactory from 'knex';
import { AgentCredentials, CertusOrdoClient, createAgentTokenVerifier, type AgentTokenVerifierOptions } from '@certusordo/sdk';
import { loadConfig } from '../api/src/config';
import { createLogger } from '../api/src/logger';
import { startServer } from '../api/src/server';
import { startPostgres } from './support/postgres';

interface Figure {
  mode: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

async function measure(mode: string, requests: number, verify: () => Promise<unknown>): Promise<Figure> {
  for (let i = 0; i < Math.min(100, requests); i++) await verify();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < requests; i++) {
    const t = performance.now();
    await verify();
    times.push(performance.now() - t);
  }
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { mode, perSecond: (requests / total) * 1000, p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 2000);
  const rounds = Number(process.argv[3] ?? 3);
  const pg = await startPostgres();
  const admin = knexFactory({ client: 'pg', connection: pg.url('postgres'), pool: { min: 0, max: 1 } });
  await admin.raw('create database bench_mcp');
  await admin.destroy();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-bench-mcp-'));
  // The uncached mode introspects once per request: the per-key request budget would throttle it.
  const config = loadConfig({ LOG_LEVEL: 'warn' }, { PORT: 0, HOST: '127.0.0.1', DATABASE_URL: pg.url('bench_mcp'), CERTUSORDO_DATA_DIR: dataDir, CERTUSORDO_MASTER_KEY: randomBytes(32).toString('base64url'), CERTUSORDO_RATE_LIMIT: '1000000000' });
  const running = await startServer(config, { logger: createLogger(config.logLevel) });
  try {
    const { apiKey, organizationId } = running.bootstrap!;
    const client = new CertusOrdoClient({ apiKey, baseUrl: running.url });
    const introspector = (await client.apiKeys.create({ name: 'bench-introspector', role: 'introspector' })).key!;
    const agent = await client.agents.create({ name: 'bench-tool-caller', scopes: ['tools:read'] });
    const resource = 'https://tools.example.com/mcp';
    const token = await AgentCredentials.fromSecret(agent.secret!, { baseUrl: running.url }).getToken({ resource });
    const base: AgentTokenVerifierOptions = { baseUrl: running.url, organizationId, resource };
    const offline = createAgentTokenVerifier(base);
    const cached = createAgentTokenVerifier({ ...base, introspection: { apiKey: introspector } });
    const uncached = createAgentTokenVerifier({ ...base, introspection: { apiKey: introspector, cacheTtlMs: 0 } });
    const bound = AgentCredentials.fromSecret(agent.secret!, { baseUrl: running.url, dpop: true });
    const proofs: Record<string, string>[] = [];
    const nextProof = () => proofs.pop() ?? (() => { throw new Error('out of pre-made proofs'); })();
    for (let round = 1; round <= rounds; round++) {
      for (let i = 0; i < requests + 100; i++) proofs.push(await bound.authHeaders('GET', resource, { resource }));
      const figures = [
        await measure('offline', requests, () => offline.verify(token)),
        await measure('introspection, cached', requests, () => cached.verify(token)),
        await measure('introspection, uncached', requests, () => uncached.verify(token)),
        await measure('DPoP', requests, () => {
          const h = nextProof();
          return offline.verify(h.authorization!.slice('DPoP '.length), { scheme: 'dpop', proof: h.dpop, method: 'GET', url: resource });
        }),
      ];
      const ref = figures[0]!.perSecond;
      for (const f of figures) {
        console.log(`round ${round}: ${f.mode.padEnd(26)} ${f.perSecond.toFixed(0).padStart(7)} verifications/s  p50 ${f.p50Ms.toFixed(3)} ms  p99 ${f.p99Ms.toFixed(3)} ms  ${(f.perSecond / ref).toFixed(3)}x offline`);
      }
    }
  } finally {
    await running.close();
    pg.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
