/**
 * Batched refresh with the real terraform: a no-change plan of many agents reads them with a few
 * `GET /v1/agents?id=…` lists instead of one GET per agent (counted in the control plane's own
 * access log), and the batched read still sees an agent revoked or deleted out of band.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../api/src/config';
import { createLogger } from '../../api/src/logger';
import { startServer, type RunningServer } from '../../api/src/server';
import { RestClient } from '../../provider-bridge/src/client/rest-client';
import { createTestStore } from '../support/databases';
import { PROTOCOL_VIOLATIONS, PROVIDER_BLOCK, TfWorkspace, describeWithTerraform, ensureProviderBuilt, installForTests } from './support/terraform';

jest.setTimeout(600_000);

const COUNT = 60;
const UUID_PATH = /\/agents\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every access-log line of the control plane (method, path; the log never carries the query). */
class AccessLog {
  readonly lines: { method: string; path: string; status: number }[] = [];
  private partial = '';
  readonly stream = {
    write: (chunk: string): void => {
      this.partial += chunk;
      let nl: number;
      while ((nl = this.partial.indexOf('\n')) >= 0) {
        const line = this.partial.slice(0, nl);
        this.partial = this.partial.slice(nl + 1);
        const entry = JSON.parse(line) as { msg?: string; method?: string; path?: string; status?: number };
        if (entry.msg === 'request') this.lines.push({ method: entry.method!, path: entry.path!, status: entry.status! });
      }
    },
  };
  take(): { method: string; path: string; status: number }[] {
    return this.lines.splice(0);
  }
}

describeWithTerraform('batched reads with terraform', () => {
  let running: RunningServer;
  let apiKey: string;
  let root: string;
  const log = new AccessLog();

  beforeAll(async () => {
    ensureProviderBuilt();
    const store = await createTestStore();
    const config = loadConfig(
      { LOG_LEVEL: 'info' },
      { PORT: 0, HOST: '127.0.0.1', DATABASE_URL: store.databaseUrl, CERTUSORDO_DATA_DIR: store.dataDir, CERTUSORDO_MASTER_KEY: randomBytes(32).toString('base64url') },
    );
    running = await startServer(config, { logger: createLogger('info', log.stream) });
    apiKey = running.bootstrap!.apiKey;
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-batch-'));
  });
  afterAll(async () => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await running?.close();
  });

  it(`plans ${COUNT} unchanged agents with far fewer requests than agents, and sees out-of-band changes`, async () => {
    const ws = new TfWorkspace(installForTests(root), { endpoint: running.url, apiKey });
    try {
      ws.write({
        'main.tf': `${PROVIDER_BLOCK}
resource "certusordo_agent" "fleet" {
  count    = ${COUNT}
  name     = "batch-\${count.index}"
  scopes   = ["fleet:read"]
  metadata = { index = tostring(count.index) }
}
`,
      });
      await ws.must(['init', '-no-color']);
      await ws.must(['apply', '-auto-approve', '-no-color']);
      log.take();

      const plan = await ws.must(['plan', '-no-color', '-detailed-exitcode'], [0]);
      expect(plan.all).not.toMatch(PROTOCOL_VIOLATIONS);
      const requests = log.take();
      const singleGets = requests.filter((r) => r.method === 'GET' && UUID_PATH.test(r.path));
      const lists = requests.filter((r) => r.method === 'GET' && /\/agents$/.test(r.path));
      expect(singleGets).toEqual([]);
      // One list is ConfigureProvider's credential probe; the rest carry the refresh's ids, several per request.
      expect(lists.length).toBeGreaterThanOrEqual(2);
      expect(lists.length).toBeLessThanOrEqual(COUNT / 2);
      process.stderr.write(`no-change plan of ${COUNT} agents: ${lists.length} list requests (one of them the credential probe)\n`);
      expect(requests.every((r) => r.status === 200)).toBe(true);

      // Out of band: one agent revoked, one gone (the API has no DELETE, so the state points at an id the control plane never issued).
      const ids = (ws.state().resources[0]!.instances as { index_key: number; attributes: { id: string } }[])
        .sort((a, b) => a.index_key - b.index_key)
        .map((i) => i.attributes.id);
      await new RestClient({ endpoint: running.url, apiKey }).revokeAgent(ids[3]!);
      const statePath = path.join(ws.dir, 'terraform.tfstate');
      fs.writeFileSync(statePath, fs.readFileSync(statePath, 'utf8').split(ids[7]!).join('00000000-0000-7000-8000-000000000000'));
      log.take();

      const drift = await ws.must(['plan', '-no-color', '-detailed-exitcode'], [2]);
      expect(drift.all).not.toMatch(PROTOCOL_VIOLATIONS);
      // Read as gone, dropped from state, so planned as a new agent.
      expect(drift.stdout).toContain('certusordo_agent.fleet[7]: Refreshing state... [id=00000000-0000-7000-8000-000000000000]');
      expect(drift.stdout).toContain('certusordo_agent.fleet[7] will be created');
      expect(drift.stdout).toContain('certusordo_agent.fleet[3] must be replaced');
      expect(drift.stdout).toContain('Plan: 2 to add, 0 to change, 1 to destroy.');
      expect(log.take().filter((r) => r.method === 'GET' && UUID_PATH.test(r.path))).toEqual([]);
    } finally {
      ws.cleanup();
    }
  });
});
