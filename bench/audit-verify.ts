/**
 * Audit chain verification cost: a full walk (events/s recomputed: read in batches, one HMAC per
 * event), an incremental run with nothing new (the fixed cost of a call), and an incremental run
 * over the events appended since the last one. Seeds one organization's chain through AuditLog.
 * Usage: node dist/bench/audit-verify.js [postgres|pglite] [events]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../api/src/db/connect';
import { migrateLatest } from '../api/src/db/migrate';
import { uuidv7 } from '../api/src/crypto/ids';
import { listChainSegment } from '../api/src/db/operations/audit';
import { AuditLog } from '../api/src/services/audit';
import { systemContext } from '../api/src/services/organizations';
import { startPostgres } from './support/postgres';

const backend = (process.argv[2] ?? 'postgres') as 'postgres' | 'pglite';
const events = Number(process.argv[3] ?? 100_000);

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-bench-audit-'));
  const pg = backend === 'postgres' ? await startPostgres() : undefined;
  const db = await openDatabase({ databaseUrl: pg?.url('postgres'), dataDir });
  try {
    await migrateLatest(db.knex);
    const audit = new AuditLog(randomBytes(32));
    const org = uuidv7();
    await audit.withAudit(db.knex, async (tx, unit) => {
      await tx('organizations').insert({ id: org, name: 'bench', created_at: new Date() });
      await unit.startChain(org);
    });
    const append = async (n: number) => {
      for (let i = 0; i < n; i += 1000) {
        const batch = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
          ctx: { ...systemContext(org), actorType: 'api_key' as const, actorId: uuidv7(), requestId: `req-${i + j}`, clientIp: '203.0.113.7' },
          event: { action: 'agent.updated', targetType: 'agent', targetId: uuidv7(), data: { scopes: ['payments:read', 'payments:write'], changed: ['scopes'] } },
        }));
        await audit.withAudit(db.knex, async (_tx, unit) => unit.appendMany(batch));
      }
    };
    await append(events);

    const time = async (label: string, fn: () => Promise<{ events_checked: number; valid: boolean }>) => {
      const t0 = process.hrtime.bigint();
      const r = await fn();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (!r.valid) throw new Error(`${label}: chain reported broken`);
      const rate = r.events_checked > 0 ? `${Math.round((r.events_checked / ms) * 1000).toLocaleString('en-US')} events/s` : '';
      console.log(`${backend.padEnd(8)} ${label.padEnd(34)} ${String(r.events_checked).padStart(7)} events ${ms.toFixed(1).padStart(9)} ms  ${rate}`);
    };
    await time('full walk (cold)', () => audit.verify(db.knex, org, { full: true }));
    // The same reads without the hashing: what the database's share of a walk is.
    await time('reads only (no HMAC)', async () => {
      let after = 0;
      let n = 0;
      for (;;) {
        const rows = await listChainSegment(db.knex, org, after, Number.MAX_SAFE_INTEGER, 2000);
        if (rows.length === 0) return { valid: true, events_checked: n };
        n += rows.length;
        after = Number(rows[rows.length - 1]!.seq);
      }
    });
    await time('full walk', () => audit.verify(db.knex, org, { full: true }));
    await time('incremental, nothing new', () => audit.verify(db.knex, org));
    await append(1000);
    await time('incremental, 1,000 new events', () => audit.verify(db.knex, org));
  } finally {
    await db.close();
    pg?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
