/**
 * Key removal is final at once: token requests signed with key K race DELETE /v1/agents/{id}/keys/K.
 * Once the DELETE has returned, no request with K gets a token, and every token issued with K was
 * issued before the removal (in the audit chain's order and by its issue time).
 *
 * On PostgreSQL a batch that waited for the agent row lock while the removal held it must not
 * trust its statement snapshot of the key rows. PGlite runs one transaction at a time, so there
 * the race cannot occur; the same test checks the same guarantees.
 */
import request from 'supertest';
import { startTestServer, TestServer } from '../support/server';
import { admin, createAgent, decodePayload, requestToken } from './helpers';

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => s?.close());

const WORKERS = 8;
/** Requests each worker still sends after the DELETE returned. */
const AFTER = 3;
const ROUNDS = 4;

interface Attempt {
  startedAfterDelete: boolean;
  status: number;
  error?: string;
  iatMs?: number;
  jti?: string;
}

async function auditEvents(query: string): Promise<{ seq: number; action: string; data: Record<string, unknown> }[]> {
  const out: { seq: number; action: string; data: Record<string, unknown> }[] = [];
  let cursor: string | null = null;
  do {
    const res: request.Response = await admin(s).get(`/v1/audit-events?${query}&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return out;
}

async function raceRemoval(): Promise<void> {
  const a = await createAgent(s, { scopes: ['payments:read'] });
  const kid: string = (await admin(s).get(`/v1/agents/${a.id}/keys`)).body.data[0].kid;
  // The agent keeps another active key: the last one cannot be removed.
  await admin(s).post(`/v1/agents/${a.id}/keys`).expect(201);

  const attempts: Attempt[] = [];
  let deletedAt: number | null = null;
  let signalIssued!: () => void;
  const issued = new Promise<void>((resolve) => (signalIssued = resolve));
  const worker = async () => {
    let after = 0;
    while (after < AFTER) {
      const startedAfterDelete = deletedAt !== null;
      const res = await requestToken(s, a, {}, { kid });
      const claims = res.status === 200 ? decodePayload(res.body.access_token) : undefined;
      attempts.push({ startedAfterDelete, status: res.status, error: res.body.error, iatMs: claims?.iat_ms as number | undefined, jti: claims?.jti as string | undefined });
      if (res.status === 200) signalIssued();
      if (startedAfterDelete) after++;
    }
  };
  const workers = Array.from({ length: WORKERS }, () => worker());
  let removal: request.Response;
  try {
    await issued; // tokens are being issued with K: remove it while requests are in flight
    removal = await admin(s).del(`/v1/agents/${a.id}/keys/${kid}`);
  } finally {
    deletedAt = Date.now();
  }
  await Promise.all(workers);

  expect(removal.status).toBe(200);
  const removedAtMs = Date.parse(removal.body.revoked_at);
  const after = attempts.filter((t) => t.startedAfterDelete);
  expect(after).toHaveLength(WORKERS * AFTER);
  // Refused as an unknown key, or throttled once the refusals pile up: never a token.
  for (const t of after) expect([401, 429]).toContain(t.status);
  const succeeded = attempts.filter((t) => t.status === 200);
  expect(succeeded.length).toBeGreaterThan(0);
  for (const t of succeeded) {
    expect(t.iatMs!).toBeLessThan(deletedAt);
    expect(t.iatMs!).toBeLessThanOrEqual(removedAtMs);
  }
  // The audit chain orders every issuance with K before the removal.
  const [removed] = await auditEvents(`agent_id=${a.id}&action=agent_key.revoked`);
  const withK = (await auditEvents(`agent_id=${a.id}&action=agent.authenticated`)).filter((e) => e.data.kid === kid);
  expect(withK.map((e) => e.data.token_jti).sort()).toEqual(succeeded.map((t) => t.jti).sort());
  const late = withK.filter((e) => e.seq > removed!.seq);
  expect(late).toEqual([]);
}

test(`removing a key while ${WORKERS} parallel token requests use it: no token with it once the DELETE returned`, async () => {
  for (let round = 0; round < ROUNDS; round++) await raceRemoval();
  expect((await admin(s).get('/v1/audit-events/verify')).body.valid).toBe(true);
});
