/**
 * The plugin process (started by main.ts, from the bundle or from modules): go-plugin handshake,
 * AutoMTLS, and the gRPC server on a unix socket. stdout carries exactly one line, the
 * handshake `1|6|unix|<socket>|grpc|<server cert>`; everything else goes to stderr as hclog JSON.
 *
 * `--debug` starts a plaintext server for reattach mode and prints TF_REATTACH_PROVIDERS.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger, levelFromEnv, type Logger } from './log';
import { createContext } from './server/context';
import type { GrpcServer, TlsOptions } from './server/grpc-server';
import { createServer } from './server/service';
import { PROVIDER_ADDRESS } from './provider';

export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
const CORE_PROTOCOL_VERSION = 1;
const APP_PROTOCOL_VERSION = 6;

async function credentialsFor(clientCertPem: string | undefined, logger: Logger): Promise<{ tls: TlsOptions | null; der: Buffer | null }> {
  if (!clientCertPem) {
    logger.debug('no PLUGIN_CLIENT_CERT: serving plaintext (reattach or TF_DISABLE_PLUGIN_TLS)');
    return { tls: null, der: null };
  }
  // Loaded lazily: x509 generation is only needed under AutoMTLS.
  const { createServerCertificate } = await import('./tls');
  const cert = await createServerCertificate();
  // Terraform's client certificate is the only one accepted, and it is required, as go-plugin servers do.
  return { tls: { certPem: cert.certPem, keyPem: cert.keyPem, clientCaPem: clientCertPem }, der: cert.der };
}

/** How main.ts started this process (it sets the global before running us); for the debug log. */
export const LAUNCH_MODE = Symbol.for('certusordo.provider.launch');
function launchMode(): string {
  return String((globalThis as Record<symbol, unknown>)[LAUNCH_MODE] ?? 'direct');
}

export async function main(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const logger = createLogger(undefined, levelFromEnv(env));
  // Any stray console.log would corrupt the handshake; send it to stderr.
  console.log = (...args: unknown[]) => logger.info(args.map(String).join(' '));
  const debug = argv.includes('--debug');

  if (!debug && env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write(
      'This binary is a plugin for Terraform and is not meant to be run directly.\n' +
        'Install it with `npm run provider:install` and run terraform, or start it with --debug for reattach mode.\n',
    );
    process.exit(1);
  }
  const versions = (env.PLUGIN_PROTOCOL_VERSIONS ?? String(APP_PROTOCOL_VERSION)).split(',').map((v) => v.trim());
  if (!debug && !versions.includes(String(APP_PROTOCOL_VERSION))) {
    process.stderr.write(`Terraform offers plugin protocol versions ${versions.join(',')}; this provider speaks only ${APP_PROTOCOL_VERSION}.\n`);
    process.exit(1);
  }
  // go-plugin servers ignore SIGINT: Terraform handles Ctrl-C and sends StopProvider.
  process.on('SIGINT', () => logger.debug('SIGINT ignored; waiting for StopProvider'));

  const sockDir = fs.mkdtempSync(path.join(env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir(), 'certusordo-plugin-'));
  const sockPath = path.join(sockDir, 'plugin.sock');
  const ctx = createContext(logger, env);
  let server: GrpcServer | null = null;
  const exit = (code: number): void => {
    server?.forceShutdown();
    fs.rmSync(sockDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.on('SIGTERM', () => exit(0));

  const { tls, der } = await credentialsFor(debug ? undefined : env.PLUGIN_CLIENT_CERT, logger);
  server = createServer({
    ctx,
    tls,
    onShutdown: () => {
      logger.debug('shutdown requested by Terraform');
      exit(0);
    },
  });
  await server.listen(sockPath);
  const group = env.PLUGIN_UNIX_SOCKET_GROUP;
  if (group && /^\d+$/.test(group)) fs.chownSync(sockPath, -1, Number(group));

  if (debug) {
    const reattach = {
      [PROVIDER_ADDRESS]: { Protocol: 'grpc', ProtocolVersion: APP_PROTOCOL_VERSION, Pid: process.pid, Test: true, Addr: { Network: 'unix', String: sockPath } },
    };
    process.stdout.write(`Provider started. To attach Terraform, set:\n\n  TF_REATTACH_PROVIDERS='${JSON.stringify(reattach)}'\n\n`);
    return;
  }
  const certField = der ? der.toString('base64').replace(/=+$/, '') : '';
  process.stdout.write(`${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|unix|${sockPath}|grpc|${certField}\n`);
  logger.debug('provider serving', { socket: sockPath, tls: der !== null, launch: launchMode(), startup_ms: Math.round(process.uptime() * 1000) });
}

/** Runs the plugin; a start-up failure goes to stderr with exit status 1. */
export function run(): void {
  main().catch((err: unknown) => {
    process.stderr.write(`terraform-provider-certusordo failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
