/**
 * One control-plane replica in its own process, for benchmarks: `startReplica(env)` forks this
 * file, which starts the server from the environment (PORT 0) and reports its URL, the first-start
 * admin key (on an empty database) and its pid.
 */
import { fork, ChildProcess } from 'node:child_process';
import { loadConfig } from '../../api/src/config';
import { createLogger } from '../../api/src/logger';
import { startServer } from '../../api/src/server';

export interface Replica {
  child: ChildProcess;
  url: string;
  apiKey: string | null;
  pid: number;
}

export function startReplica(env: Record<string, string>): Promise<Replica> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, ...(m as { url: string; apiKey: string | null }), pid: child.pid! }));
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}`)));
  });
}

/** Stops replicas (SIGTERM, graceful) and waits for them to exit. */
export async function stopReplicas(children: ChildProcess[]): Promise<void> {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
}

async function serve(): Promise<void> {
  const config = loadConfig(process.env, { PORT: 0, HOST: '127.0.0.1' });
  const running = await startServer(config, { logger: createLogger(config.logLevel) });
  process.send!({ url: running.url, apiKey: running.bootstrap?.apiKey ?? null });
  process.once('SIGTERM', () => void running.close().finally(() => process.exit(0)));
}

if (require.main === module) {
  serve().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
