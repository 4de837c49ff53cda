/**
 * The provider's transport trust boundary, below terraform: which endpoints may receive the API
 * key, the response-size cap, and that no error, diagnostic or log line carries a credential.
 * Every test runs under the net guard, so a regression cannot send traffic off loopback.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { RestClient } from '../../provider-bridge/src/client/rest-client';
import { APIConnectionError, APIError, ResponseTooLargeError } from '../../sdk/src/core/errors';
import {
  endpointProblem,
  insecureFromEnv,
  isInsecureEndpointError,
  isLoopbackHost,
  loopbackOnlyLookup,
} from '../../provider-bridge/src/client/endpoint';
import { MAX_RESPONSE_BYTES, nodeFetch } from '../../provider-bridge/src/client/node-fetch';
import { scrubSecrets } from '../../provider-bridge/src/client/scrub';
import { configureProvider, validateProviderConfig } from '../../provider-bridge/src/provider';
import { diagFromError, type Diagnostic } from '../../provider-bridge/src/diag';
import { createLogger } from '../../provider-bridge/src/log';
import type { TfObject } from '../../provider-bridge/src/codec/values';
import { startTestServer, type TestServer } from '../support/server';
import { installNetGuard, type NetEvent } from './support/net-guard';

const KEY = 'aa_' + 'k'.repeat(43);
/** A key that does not look like one: scrubbing must not rely on the `aa_` shape. */
const ODD_KEY = 'plain-secret-value-7f3a9c';

let guardDir: string;
let guard: { events: NetEvent[]; uninstall: () => void };
beforeAll(() => {
  guardDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-netguard-'));
});
afterAll(() => fs.rmSync(guardDir, { recursive: true, force: true }));
beforeEach(() => {
  guard = installNetGuard(guardDir, { 'control-plane.test': '127.0.0.1' });
});
afterEach(() => guard.uninstall());

/** Events about one host or port: the worker's own database pool may connect too. */
const eventsFor = (host: string, port?: number): NetEvent[] => guard.events.filter((e) => e.host === host || (port !== undefined && e.port === port));
const everyText = (diags: readonly Diagnostic[]): string => diags.map((d) => `${d.summary}\n${d.detail}`).join('\n');

/** A local server whose handler the test supplies: the hostile or broken endpoint. */
async function localServer(handler: http.RequestListener): Promise<{ url: string; requests: http.IncomingMessage[]; close(): Promise<void> }> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    res.on('error', () => {});
    handler(req, res);
  });
  server.on('clientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('address classes', () => {
  const host = (u: string): string => new URL(u).hostname;

  it.each([
    'http://127.0.0.1:8080',
    'http://127.255.3.4',
    'http://127.1', // WHATWG URL normalises to 127.0.0.1
    'http://2130706433', // 127.0.0.1 as one number
    'http://[::1]:8080',
    'http://[0:0:0:0:0:0:0:1]',
    'http://[::ffff:127.0.0.1]',
    'http://localhost:8080',
    'http://LOCALHOST.',
  ])('%s is loopback', (u) => {
    expect(isLoopbackHost(host(u))).toBe(true);
    expect(endpointProblem(u, { insecure: false, source: 'endpoint', fix: '' })).toBeNull();
  });

  it.each([
    'http://10.0.0.1:1',
    'http://0.0.0.0:8080',
    'http://128.0.0.1',
    'http://126.255.255.255',
    'http://[::]',
    'http://[::2]',
    'http://[::ffff:10.0.0.1]',
    'http://[fe80::1]',
    'http://example.com',
    'http://localhost.example.com',
    'http://mylocalhost',
    'http://127.0.0.1.nip.io',
  ])('%s is not loopback: refused without the opt-in, allowed with it', (u) => {
    expect(isLoopbackHost(host(u))).toBe(false);
    const p = endpointProblem(u, { insecure: false, source: 'endpoint', fix: '' });
    expect(p?.summary).toBe('Insecure endpoint');
    expect(p?.detail).toContain('`insecure = true`');
    expect(p?.detail).toContain('CERTUSORDO_INSECURE=1');
    expect(endpointProblem(u, { insecure: true, source: 'endpoint', fix: '' })).toBeNull();
  });

  it.each(['https://10.0.0.1', 'https://example.com:8443/base', 'https://[2001:db8::1]', 'https://localhost'])(
    '%s (https) is always allowed',
    (u) => {
      expect(endpointProblem(u, { insecure: false, source: 'endpoint', fix: '' })).toBeNull();
    },
  );

  it('refuses userinfo, queries and fragments, and never echoes what it refused', () => {
    const cred = endpointProblem('https://admin:hunter2-pw@cp.example.com/', { insecure: false, source: 'endpoint', fix: '' });
    expect(cred?.summary).toBe('Credentials in endpoint URL');
    expect(cred?.detail).toContain('https://cp.example.com');
    expect(cred?.detail).not.toMatch(/hunter2|admin/);
    const userOnly = endpointProblem('http://tok3n-value@127.0.0.1:1', { insecure: false, source: 'endpoint', fix: '' });
    expect(userOnly?.summary).toBe('Credentials in endpoint URL');
    expect(userOnly?.detail).not.toContain('tok3n-value');
    const query = endpointProblem('https://cp.example.com/?token=q-secret', { insecure: false, source: 'endpoint', fix: '' });
    expect(query?.summary).toBe('Invalid endpoint');
    expect(query?.detail).not.toContain('q-secret');
    const garbage = endpointProblem('http://deploy:secret-xyz@[cp', { insecure: false, source: 'endpoint', fix: '' });
    expect(garbage?.summary).toBe('Invalid endpoint');
    expect(garbage?.detail).not.toContain('secret-xyz');
    expect(endpointProblem('ftp://cp.example.com', { insecure: true, source: 'endpoint', fix: '' })?.summary).toBe('Invalid endpoint');
  });

  it('reads CERTUSORDO_INSECURE as 1/true only', () => {
    expect(insecureFromEnv({ CERTUSORDO_INSECURE: '1' })).toBe(true);
    expect(insecureFromEnv({ CERTUSORDO_INSECURE: 'TRUE' })).toBe(true);
    for (const v of ['', '0', 'false', 'no', 'yes please']) expect(insecureFromEnv({ CERTUSORDO_INSECURE: v })).toBe(false);
    expect(insecureFromEnv({})).toBe(false);
  });

  it('a loopback name only ever resolves to loopback addresses', async () => {
    const lookupWith = (answer: Array<{ address: string; family: number }>, all: boolean) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) =>
        loopbackOnlyLookup((_h, _o, cb) => cb(null, answer))('localhost', { all }, (err, address, family) => resolve({ err, address, family })),
      );
    const mixed = [
      { address: '10.0.0.1', family: 4 },
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ];
    expect((await lookupWith(mixed, true)).address).toEqual([
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ]);
    expect(await lookupWith(mixed, false)).toEqual({ err: null, address: '::1', family: 6 });
    const hijacked = await lookupWith([{ address: '10.0.0.1', family: 4 }], false);
    expect(hijacked.err?.code).toBe('ENOTLOOPBACK');
  });
});

describe('ValidateProviderConfig and ConfigureProvider refuse before any request', () => {
  const logger = createLogger(() => {}, 'off');
  const configure = (config: TfObject, env: NodeJS.ProcessEnv) => configureProvider(config, { env, stopSignal: new AbortController().signal, logger });

  it('http://10.0.0.1:1 in the provider block: an error on `endpoint`, no connection attempted', async () => {
    const config = { endpoint: 'http://10.0.0.1:1', api_key: KEY, insecure: null };
    const v = validateProviderConfig(config, {});
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ severity: 'ERROR', summary: 'Insecure endpoint', path: ['endpoint'] });
    const res = await configure(config, {});
    expect(res.data).toBeNull();
    expect(res.diagnostics).toEqual([expect.objectContaining({ severity: 'ERROR', summary: 'Insecure endpoint', path: ['endpoint'] })]);
    expect(res.diagnostics[0]!.detail).toMatch(/`insecure = true`.*CERTUSORDO_INSECURE=1/);
    expect(guard.events).toEqual([]);
  });

  it('the same from CERTUSORDO_ENDPOINT', async () => {
    const res = await configure({ endpoint: null, api_key: null, insecure: null }, { CERTUSORDO_ENDPOINT: 'http://10.0.0.1:1', CERTUSORDO_API_KEY: KEY });
    expect(res.diagnostics).toEqual([expect.objectContaining({ summary: 'Insecure endpoint', path: ['endpoint'] })]);
    expect(res.diagnostics[0]!.detail).toContain('CERTUSORDO_ENDPOINT (http://10.0.0.1:1)');
    expect(guard.events).toEqual([]);
  });

  it('`insecure = false` in the block wins over CERTUSORDO_INSECURE=1', async () => {
    const res = await configure({ endpoint: 'http://10.0.0.1:1', api_key: KEY, insecure: false }, { CERTUSORDO_INSECURE: '1' });
    expect(res.diagnostics.map((d) => d.summary)).toEqual(['Insecure endpoint']);
    expect(validateProviderConfig({ endpoint: 'http://10.0.0.1:1', insecure: true }, {})).toEqual([]);
    expect(validateProviderConfig({ endpoint: 'http://10.0.0.1:1', insecure: null }, { CERTUSORDO_INSECURE: '1' })).toEqual([]);
    expect(guard.events).toEqual([]);
  });

  it('userinfo in the endpoint: refused, and neither user nor password appears anywhere', async () => {
    const lines: string[] = [];
    const res = await configureProvider(
      { endpoint: 'http://deploy:hunter2-pw@127.0.0.1:1', api_key: KEY, insecure: null },
      { env: {}, stopSignal: new AbortController().signal, logger: createLogger((l) => lines.push(l)) },
    );
    expect(res.diagnostics.map((d) => d.summary)).toEqual(['Credentials in endpoint URL']);
    // No attribute path: terraform would quote the configuration line, password included.
    expect(res.diagnostics[0]!.path).toBeUndefined();
    const text = everyText(res.diagnostics) + lines.join('');
    expect(text).not.toMatch(/hunter2|deploy/);
    expect(guard.events).toEqual([]);
  });

  describe('with a real control plane on loopback, reached through a name that is not loopback', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(async () => server?.close());

    it('is refused without the opt-in and works with `insecure = true` or CERTUSORDO_INSECURE=1', async () => {
      const endpoint = server.url.replace('127.0.0.1', 'control-plane.test');
      const port = Number(new URL(server.url).port);
      const refused = await configure({ endpoint, api_key: server.apiKey, insecure: null }, {});
      expect(refused.diagnostics.map((d) => d.summary)).toEqual(['Insecure endpoint']);
      expect(eventsFor('control-plane.test', port)).toEqual([]);

      const viaBlock = await configure({ endpoint, api_key: server.apiKey, insecure: true }, {});
      expect(viaBlock.diagnostics).toEqual([]);
      const page = await viaBlock.data!.client.listAgentsPage({ limit: 1 });
      expect(page.data).toEqual(expect.any(Array));
      const viaEnv = await configure({ endpoint: null, api_key: null, insecure: null }, {
        CERTUSORDO_ENDPOINT: endpoint,
        CERTUSORDO_API_KEY: server.apiKey,
        CERTUSORDO_INSECURE: '1',
      });
      expect(viaEnv.diagnostics).toEqual([]);
      // The name was looked up (and mapped to 127.0.0.1); nothing was blocked.
      expect(eventsFor('control-plane.test').filter((e) => e.kind === 'lookup')).not.toHaveLength(0);
      expect(guard.events.filter((e) => e.blocked)).toEqual([]);
    });

    it('a page of agents with large metadata over the cap is fetched again in smaller pages, skipping nothing', async () => {
      const big: Record<string, string> = {};
      for (let i = 0; i < 50; i++) big[`k${String(i).padStart(2, '0')}`] = 'v'.repeat(1024);
      const admin = new RestClient({ endpoint: server.url, apiKey: server.apiKey });
      const created: string[] = [];
      for (let i = 0; i < 9; i++) created.push((await admin.createAgent({ name: `heavy-${i}`, metadata: big })).id);
      // One agent is ~53 KB of JSON: a 200 KiB cap fits 3 of them, not the 9 asked for.
      const capped = new RestClient({ endpoint: server.url, apiKey: server.apiKey, maxResponseBytes: 200 * 1024 });
      await expect(capped.listAgentsPage({ name_prefix: 'heavy-', limit: 200 })).rejects.toBeInstanceOf(ResponseTooLargeError);
      const seen: string[] = [];
      for await (const a of capped.listAgents({ name_prefix: 'heavy-' })) seen.push(a.id);
      expect(seen.sort()).toEqual([...created].sort());
      // A single agent over the cap is an error, not an endless retry.
      const tiny = new RestClient({ endpoint: server.url, apiKey: server.apiKey, maxResponseBytes: 10 * 1024 });
      const drain = async (): Promise<void> => {
        for await (const a of tiny.listAgents({ name_prefix: 'heavy-' })) void a;
      };
      await expect(drain()).rejects.toBeInstanceOf(ResponseTooLargeError);
    });
  });
});

describe('RestClient refuses on its own (defence in depth)', () => {
  it('plain http off loopback: an insecure-endpoint ConfigurationError, no retry, no connection', async () => {
    let sleeps = 0;
    const client = new RestClient({ endpoint: 'http://10.0.0.1:1', apiKey: KEY, sleep: async () => void sleeps++ });
    const err = await client.listAgentsPage({}).catch((e: unknown) => e);
    expect(isInsecureEndpointError(err)).toBe(true);
    expect(sleeps).toBe(0);
    expect(guard.events).toEqual([]);
  });

  it('a loopback name that resolves elsewhere is refused before connecting', async () => {
    // 0.0.0.0 is not loopback by the provider's rules; had the filter let it through, Linux would
    // have delivered the connection to this host (port 1: refused), never to the network.
    guard.uninstall();
    guard = installNetGuard(guardDir, { localhost: '0.0.0.0' });
    let sleeps = 0;
    const client = new RestClient({ endpoint: 'http://localhost:1', apiKey: KEY, sleep: async () => void sleeps++ });
    const err = await client.listAgentsPage({}).catch((e: unknown) => e);
    expect(isInsecureEndpointError(err)).toBe(true);
    expect((err as Error).message).toContain('localhost does not resolve to a loopback address');
    expect(sleeps).toBe(0);
    expect(guard.events.filter((e) => e.kind === 'lookup')).toEqual([{ kind: 'lookup', host: 'localhost', address: '0.0.0.0', blocked: false }]);
  });

  it('never sends URL userinfo: the request carries the Bearer key only, and errors do not name the user', async () => {
    const srv = await localServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'no such agent', details: [] } }));
    });
    try {
      const client = new RestClient({ endpoint: srv.url.replace('http://', 'http://deploy:hunter2-pw@'), apiKey: KEY });
      const err = await client.getAgent('x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect(srv.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
      const dead = new RestClient({ endpoint: 'http://deploy:hunter2-pw@127.0.0.1:1', apiKey: KEY, maxRetries: 0 });
      const conn = await dead.getAgent('x').catch((e: unknown) => e);
      expect(conn).toBeInstanceOf(APIConnectionError);
      expect(`${(conn as Error).message} ${diagFromError(conn, 'read').detail}`).not.toMatch(/hunter2|deploy/);
    } finally {
      await srv.close();
    }
  });
});

describe('response body cap', () => {
  it('an endless body is cut off at the cap with a clear error that does not include the body', async () => {
    const srv = await localServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, `"${KEY}"`);
      const pump = (): void => {
        while (res.write(chunk)) {
          /* keep writing until the socket pushes back */
        }
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    try {
      const lines: string[] = [];
      let sleeps = 0;
      const client = new RestClient({ endpoint: srv.url, apiKey: KEY, logger: createLogger((l) => lines.push(l)), sleep: async () => void sleeps++ });
      const err = await client.listAgentsPage({}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ResponseTooLargeError);
      expect((err as Error).message).toBe(
        `the response from ${srv.url} (HTTP 200) exceeded the 4 MiB limit; the read was aborted and the body discarded`,
      );
      // Not retried: a second attempt would read the same flood.
      expect(srv.requests).toHaveLength(1);
      expect(sleeps).toBe(0);
      const diag = diagFromError(err, 'list agents');
      expect(diag.summary).toBe('Response from the control plane too large');
      expect(diag.detail).not.toContain(KEY);
      expect(lines.join('')).not.toContain(KEY);
    } finally {
      await srv.close();
    }
  });

  it('a declared Content-Length over the cap fails before reading; a body at the cap is fine', async () => {
    const srv = await localServer((req, res) => {
      if (req.url?.startsWith('/huge')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 ** 3) });
        res.write('{');
        return; // never finishes: the client must not wait for 10 GiB
      }
      const body = JSON.stringify({ pad: 'x'.repeat(1000 - 10) });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
    try {
      const get = { method: 'GET', headers: {}, signal: new AbortController().signal };
      const huge = await nodeFetch()(`${srv.url}/huge`, get).catch((e: unknown) => e);
      expect(huge).toBeInstanceOf(ResponseTooLargeError);
      expect((huge as ResponseTooLargeError).limitBytes).toBe(MAX_RESPONSE_BYTES);
      const atCap = await nodeFetch({ maxResponseBytes: 1000 })(`${srv.url}/ok`, get);
      expect((await atCap.text()).length).toBe(1000);
      const overCap = await nodeFetch({ maxResponseBytes: 999 })(`${srv.url}/ok`, get).catch((e: unknown) => e);
      expect(overCap).toBeInstanceOf(ResponseTooLargeError);
    } finally {
      await srv.close();
    }
  });
});

describe('credentials echoed by a failing endpoint', () => {
  /** Echoes the request's Authorization header back in every field a client might show. */
  const echo = (status: number): http.RequestListener => (req, res) => {
    const auth = req.headers.authorization ?? '';
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': auth });
    res.end(
      JSON.stringify({
        error: {
          code: `bad ${auth}`,
          message: `request rejected; you sent Authorization: ${auth}`,
          details: [{ path: 'name', message: `header was ${auth.replace('Bearer ', '')}` }],
        },
      }),
    );
  };

  it.each([
    [400, KEY],
    [400, ODD_KEY],
    [403, ODD_KEY],
    [500, ODD_KEY],
  ])('HTTP %i echoing the key (%s): no error, diagnostic or log line contains it', async (status, key) => {
    const srv = await localServer(echo(status));
    try {
      const lines: string[] = [];
      const logger = createLogger((l) => lines.push(l));
      const client = new RestClient({ endpoint: srv.url, apiKey: key, logger, sleep: async () => {}, maxRetries: 2 });
      const err = await client.createAgent({ name: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      const api = err as APIError;
      const diag = diagFromError(err, 'create agent "x"');
      const configured = await configureProvider(
        { endpoint: srv.url, api_key: key, insecure: null },
        { env: {}, stopSignal: new AbortController().signal, logger, probe: true },
      );
      const shown = [
        api.message,
        api.code,
        api.requestId ?? '',
        JSON.stringify(api.details),
        String(api.stack),
        diag.summary,
        diag.detail,
        everyText(configured.diagnostics),
        lines.join(''),
      ].join('\n');
      expect(shown).toContain('request rejected'); // the server's message itself is kept
      expect(shown).toContain('[redacted]');
      expect(shown).not.toContain(key);
      expect(shown).not.toContain(Buffer.from(key).toString('base64'));
    } finally {
      await srv.close();
    }
  });

  it('scrubs auth schemes and credential shapes, and bounds the length', () => {
    expect(scrubSecrets('Authorization: Basic ZGVwbG95Omh1bnRlcjI=')).toBe('Authorization: Basic [redacted]');
    expect(scrubSecrets('token=Bearer%20abc.def')).toBe('token=Bearer [redacted]');
    expect(scrubSecrets(`secret cos_01234567-89ab-7cde-8f01-23456789abcd_${'s'.repeat(43)} here`)).toBe('secret [redacted] here');
    expect(scrubSecrets('agent aa_billing exists')).toBe('agent aa_billing exists');
    expect(scrubSecrets(`x${encodeURIComponent('k&y=1/2')}x`, ['k&y=1/2'])).toBe('x[redacted]x');
    expect(scrubSecrets('y'.repeat(2000)).length).toBeLessThan(600);
  });
});
