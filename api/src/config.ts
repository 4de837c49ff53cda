/**
 * Runtime configuration from environment variables, overridable by CLI flags.
 * Parsed once at start-up; everything downstream receives a typed, frozen Config.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { ACCESS_TOKEN_TTL_DEFAULT_SECONDS, ACCESS_TOKEN_TTL_MAX_SECONDS, ACCESS_TOKEN_TTL_MIN_SECONDS } from '../../model/limits';
import { DELEGATION_MAX_DEPTH_DEFAULT, DELEGATION_MAX_DEPTH_LIMIT, DELEGATION_MAX_DEPTH_MIN } from '../../model/delegation';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** PostgreSQL connection string; when absent the embedded PGlite store is used. */
  readonly databaseUrl: string | undefined;
  /** The connection that LISTENs for invalidations (default: databaseUrl); must not go through a transaction-mode pooler. */
  readonly listenDatabaseUrl: string | undefined;
  /** Directory for the embedded database, its lock and the generated master key. */
  readonly dataDir: string;
  /** 32-byte master key (base64url) from which the API-key pepper and signing-key encryption key derive. */
  readonly masterKey: string | undefined;
  /** Public base URL used as token issuer/audience; defaults to http://HOST:PORT. */
  readonly publicUrl: string | undefined;
  readonly logLevel: string;
  readonly bodyLimitBytes: number;
  /** Requests per second allowed per API key / client address (token bucket). */
  readonly rateLimitPerSecond: number;
  readonly accessTokenTtlSeconds: number;
  /** Most actors one delegated (RFC 8693 token-exchange) token may carry. */
  readonly delegationMaxDepth: number;
  readonly signingKeyRotationSeconds: number;
  /** How long an Idempotency-Key is remembered; expired records are purged periodically. */
  readonly idempotencyTtlSeconds: number;
  /** Express `trust proxy`: false (the socket address is the client), a hop count, or addresses/CIDRs/names. */
  readonly trustProxy: TrustProxy;
  /** Successful token requests per agent per minute (per replica; a bucket of one minute's worth). */
  readonly tokenRateLimitPerMinute: number;
  /** CERTUSORDO_DPOP_NONCE=required: DPoP proofs at the token endpoint must carry a server nonce (RFC 9449 §8). */
  readonly dpopNonceRequired: boolean;
  /** Unauthenticated revocation requests per client address per minute (per replica). */
  readonly revokeRateLimitPerMinute: number;
  /** How long ended or expired sessions are kept before the maintenance tick deletes them. */
  readonly sessionRetentionSeconds: number;
  /** Serve GET /metrics (Prometheus text format): on the main port, or only on `metricsPort` when set. */
  readonly metrics: boolean;
  /** A separate port for GET /metrics (then not served on the main port); undefined: the main port. */
  readonly metricsPort: number | undefined;
  /** On SIGTERM: how long /readyz answers 503 while requests are still served, before the listener closes. */
  readonly shutdownDrainMs: number;
  /** After the drain: how long in-flight requests may take before their connections are cut. */
  readonly shutdownTimeoutMs: number;
  /** Where `serve` writes the first-start admin key (a new file, mode 0600); undefined: stderr. */
  readonly bootstrapKeyFile: string | undefined;
  /** Federated credentials' issuers may be (and resolve to) loopback, private or link-local addresses; never cloud metadata ones. */
  readonly federationAllowPrivateNetworks: boolean;
}

export type TrustProxy = false | number | readonly string[];

const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function trustProxyEntryError(entry: string): string | null {
  if (TRUST_PROXY_NAMES.has(entry)) return null;
  const [addr = '', bits, ...rest] = entry.split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length) return `"${entry}" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal`;
  if (bits === undefined) return null;
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `"${entry}": the prefix length must be 0-${max}`;
  return null;
}

/**
 * CERTUSORDO_TRUST_PROXY: unset or empty (trust no proxy), a hop count, or a comma-separated list
 * of addresses, CIDR ranges and the names loopback, linklocal, uniquelocal. `true` (trust every
 * hop) is refused: it lets any client choose its own address by sending X-Forwarded-For.
 */
export function parseTrustProxy(raw: string | undefined): { ok: true; value: TrustProxy } | { ok: false; message: string } {
  const v = (raw ?? '').trim();
  if (v === '' || v === 'false' || v === '0') return { ok: true, value: false };
  if (/^\d+$/.test(v)) return Number(v) <= 32 ? { ok: true, value: Number(v) } : { ok: false, message: 'a hop count must be at most 32' };
  if (v === 'true') return { ok: false, message: 'true would trust X-Forwarded-For from any client; give the number of proxies in front of the server (e.g. 1) or their addresses (e.g. loopback,10.0.0.0/8)' };
  const entries = v.split(',').map((x) => x.trim());
  for (const e of entries) {
    const err = e === '' ? 'an empty entry' : trustProxyEntryError(e);
    if (err) return { ok: false, message: `${err} (expected a hop count, or a comma-separated list of addresses, CIDR ranges, loopback, linklocal, uniquelocal)` };
  }
  return { ok: true, value: entries };
}

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().min(1).optional(),
  CERTUSORDO_LISTEN_DATABASE_URL: z.string().min(1).optional(),
  CERTUSORDO_DATA_DIR: z.string().min(1).default('./.certusordo'),
  CERTUSORDO_MASTER_KEY: z.string().min(1).optional(),
  CERTUSORDO_PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CERTUSORDO_RATE_LIMIT: z.coerce.number().positive().default(200),
  CERTUSORDO_TOKEN_TTL: z.coerce.number().int().min(ACCESS_TOKEN_TTL_MIN_SECONDS).max(ACCESS_TOKEN_TTL_MAX_SECONDS).default(ACCESS_TOKEN_TTL_DEFAULT_SECONDS),
  CERTUSORDO_DELEGATION_MAX_DEPTH: z.coerce.number().int().min(DELEGATION_MAX_DEPTH_MIN).max(DELEGATION_MAX_DEPTH_LIMIT).default(DELEGATION_MAX_DEPTH_DEFAULT),
  CERTUSORDO_SIGNING_KEY_ROTATION: z.coerce.number().int().min(60).default(7 * 24 * 3600),
  CERTUSORDO_IDEMPOTENCY_TTL: z.coerce.number().int().min(60).default(24 * 3600),
  CERTUSORDO_TRUST_PROXY: z.string().optional().superRefine((v, ctx) => {
    const r = parseTrustProxy(v);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
  }),
  CERTUSORDO_TOKEN_RATE_LIMIT: z.coerce.number().positive().default(6000),
  CERTUSORDO_DPOP_NONCE: z.enum(['off', 'required']).default('off'),
  CERTUSORDO_REVOKE_RATE_LIMIT: z.coerce.number().positive().default(600),
  CERTUSORDO_SESSION_RETENTION: z.coerce.number().int().min(60).default(30 * 24 * 3600),
  CERTUSORDO_METRICS: z.enum(['on', 'off']).default('off'),
  CERTUSORDO_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  CERTUSORDO_SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(600_000).optional(),
  CERTUSORDO_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  CERTUSORDO_BOOTSTRAP_KEY_FILE: z.string().min(1).optional(),
  CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS: z.enum(['0', '1']).default('0'),
});

export type ConfigOverrides = Partial<Record<keyof z.input<typeof Env>, string | number | undefined>>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const merged: Record<string, unknown> = { ...env };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) merged[k] = v;
  const parsed = Env.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    listenDatabaseUrl: e.CERTUSORDO_LISTEN_DATABASE_URL ?? e.DATABASE_URL,
    dataDir: path.resolve(e.CERTUSORDO_DATA_DIR),
    masterKey: e.CERTUSORDO_MASTER_KEY,
    publicUrl: e.CERTUSORDO_PUBLIC_URL?.replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: 64 * 1024,
    rateLimitPerSecond: e.CERTUSORDO_RATE_LIMIT,
    accessTokenTtlSeconds: e.CERTUSORDO_TOKEN_TTL,
    delegationMaxDepth: e.CERTUSORDO_DELEGATION_MAX_DEPTH,
    signingKeyRotationSeconds: e.CERTUSORDO_SIGNING_KEY_ROTATION,
    idempotencyTtlSeconds: e.CERTUSORDO_IDEMPOTENCY_TTL,
    trustProxy: (parseTrustProxy(e.CERTUSORDO_TRUST_PROXY) as { ok: true; value: TrustProxy }).value,
    tokenRateLimitPerMinute: e.CERTUSORDO_TOKEN_RATE_LIMIT,
    dpopNonceRequired: e.CERTUSORDO_DPOP_NONCE === 'required',
    revokeRateLimitPerMinute: e.CERTUSORDO_REVOKE_RATE_LIMIT,
    sessionRetentionSeconds: e.CERTUSORDO_SESSION_RETENTION,
    // A separate metrics port turns metrics on there (and keeps them off the public port).
    metrics: e.CERTUSORDO_METRICS === 'on' || e.CERTUSORDO_METRICS_PORT !== undefined,
    metricsPort: e.CERTUSORDO_METRICS_PORT,
    // Replicas (PostgreSQL) sit behind a load balancer that must see /readyz fail before the
    // listener goes; the embedded store is one process with nobody to hand its traffic to.
    shutdownDrainMs: e.CERTUSORDO_SHUTDOWN_DRAIN_MS ?? (e.DATABASE_URL ? 5_000 : 0),
    shutdownTimeoutMs: e.CERTUSORDO_SHUTDOWN_TIMEOUT_MS,
    bootstrapKeyFile: e.CERTUSORDO_BOOTSTRAP_KEY_FILE ? path.resolve(e.CERTUSORDO_BOOTSTRAP_KEY_FILE) : undefined,
    federationAllowPrivateNetworks: e.CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS === '1',
  });
}
