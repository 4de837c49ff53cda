/**
 * Several real control-plane processes (`node dist/cli/main.js serve`, as an operator runs it) on
 * one fresh PostgreSQL database, and a small round-robin load balancer in front of them written
 * for the tests: like a real one, it polls each backend's /readyz and routes only to ready ones,
 * and it retries nothing itself (a failed forward is a 502 for the client to handle).
 */
import { spawn, ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ensureBuilt } from '../../support/build';
import { createTestStore } from '../../support/databases';

const CLI = path.resolve(__dirname, '../../../dist/cli/main.js');

export interface ClusterDatabase {
  databaseUrl: string;
  masterKey: string;
}

/** A fresh database (a clone of the run's migrated template) and a master key for its replicas. */
export async function freshDatabase(): Promise<ClusterDatabase> {
  ensureBuilt();
  const store = await createTestStore('postgres');
  return { databaseUrl: store.databaseUrl!, masterKey: randomBytes(32).toString('base64url') };
}

export class Replica {
  readonly exited: Promise<number | null>;
  private out = '';

  private constructor(readonly child: ChildProcess, readonly url: string, out: string) {
    this.out = out;
    // The start-up lines (the bootstrap key) and some context for a failure; not every access log.
    const keep = (d: Buffer) => void (this.out.length < 256_000 && (this.out += d));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = child.exitCode !== null ? Promise.resolve(child.exitCode) : once(child, 'exit').then(([code]) => code as number | null);
  }

  /** The admin key printed on the database's first start (only the first replica prints one). */
  get bootstrapKey(): string | undefined {
    return /^CERTUSORDO_API_KEY=(aa_\S+)$/m.exec(this.out)?.[1];
  }

  get output(): string {
    return this.out;
  }

  /** Starts `certusordo serve` and resolves once it logs that it listens. */
  static start(db: ClusterDatabase, env: Record<string, string> = {}): Promise<Replica> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'info', DATABASE_URL: db.databaseUrl, CERTUSORDO_MASTER_KEY: db.masterKey, ...env };
    delete childEnv.CERTUSORDO_DATA_DIR;
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    return new Promise((resolve, reject) => {
      const onData = (d: Buffer) => {
        out += d;
        const m = /"url":"(http:\/\/[^"]+)".*listening/.exec(out);
        if (m) {
          child.stdout!.off('data', onData);
          child.stderr!.off('data', onData);
          child.off('exit', onExit);
          resolve(new Replica(child, m[1]!, out));
        }
      };
      const onExit = (code: number | null) => reject(new Error(`serve exited with ${code} before listening:\n${out}`));
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', onExit);
    });
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

interface Backend {
  url: URL;
  ready: boolean;
  removed: boolean;
}

export interface ProxyStats {
  forwarded: number;
  /** Forwards that failed at the connection level (answered 502 to the client). */
  failed: number;
}

/**
 * Round-robin over ready backends. Health: GET /readyz every `pollMs` per backend (a 200 marks it
 * ready, anything else or no answer marks it not ready), as a load balancer's health check does.
 */
export class Proxy extends EventEmitter {
  readonly stats: ProxyStats = { forwarded: 0, failed: 0 };
  private readonly backends: Backend[] = [];
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly server: http.Server;
  private readonly timer: NodeJS.Timeout;
  private next = 0;
  url = '';

  constructor(private readonly pollMs = 50) {
    super();
    this.server = http.createServer((req, res) => this.forward(req, res));
    this.server.keepAliveTimeout = 5_000;
    this.timer = setInterval(() => {
      for (const b of this.backends) void this.check(b);
    }, this.pollMs);
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Adds a backend; resolves when its health check first passes. */
  add(url: string): Promise<void> {
    const b: Backend = { url: new URL(url), ready: false, removed: false };
    this.backends.push(b);
    return this.untilReady(b);
  }

  remove(url: string): void {
    const i = this.backends.findIndex((b) => b.url.toString() === new URL(url).toString());
    if (i >= 0) this.backends.splice(i, 1)[0]!.removed = true;
  }

  /** Resolves when the backend at `url` is no longer routed to. */
  untilNotReady(url: string): Promise<void> {
    const b = this.backends.find((x) => x.url.toString() === new URL(url).toString());
    if (!b || !b.ready) return Promise.resolve();
    return new Promise((resolve) => {
      const on = (changed: Backend) => {
        if (changed === b && !b.ready) {
          this.off('health', on);
          resolve();
        }
      };
      this.on('health', on);
    });
  }

  private untilReady(b: Backend): Promise<void> {
    return new Promise((resolve) => {
      const on = (changed: Backend) => {
        if (changed === b && b.ready) {
          this.off('health', on);
          resolve();
        }
      };
      this.on('health', on);
    });
  }

  private check(b: Backend): Promise<void> {
    return new Promise((resolve) => {
      const set = (ready: boolean) => {
        if (!b.removed && b.ready !== ready) {
          b.ready = ready;
          this.emit('health', b);
        }
        resolve();
      };
      const req = http.get(new URL('/readyz', b.url), { agent: false, timeout: 1000 }, (res) => {
        res.resume();
        set(res.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => set(false));
    });
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const ready = this.backends.filter((b) => b.ready);
    if (ready.length === 0) {
      this.stats.failed++;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"no ready backend"}');
      return;
    }
    const b = ready[this.next++ % ready.length]!;
    this.stats.forwarded++;
    const headers = { ...req.headers };
    delete headers.connection;
    const upstream = http.request({ host: b.url.hostname, port: b.url.port, method: req.method, path: req.url, headers, agent: this.agent }, (up) => {
      const out = { ...up.headers };
      delete out.connection;
      delete out['keep-alive'];
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
    });
    upstream.on('error', () => {
      this.stats.failed++;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":"bad gateway"}');
      else res.destroy();
    });
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.agent.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
