/**
 * Runtime configuration from environment variables, overridable by CLI flags.
 * Parsed once at start-up; everything downstream receives a typed, frozen Config.
 */
import path from 'node:path';
import { z } from 'zod';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** PostgreSQL connection string; when absent the embedded PGlite store is used. */
  readonly databaseUrl: string | undefined;
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
  readonly signingKeyRotationSeconds: number;
  /** How long an Idempotency-Key is remembered; expired records are purged periodically. */
  readonly idempotencyTtlSeconds: number;
}

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().min(1).optional(),
  CERTUSORDO_DATA_DIR: z.string().min(1).default('./.certusordo'),
  CERTUSORDO_MASTER_KEY: z.string().min(1).optional(),
  CERTUSORDO_PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CERTUSORDO_RATE_LIMIT: z.coerce.number().positive().default(200),
  CERTUSORDO_TOKEN_TTL: z.coerce.number().int().min(30).max(3600).default(300),
  CERTUSORDO_SIGNING_KEY_ROTATION: z.coerce.number().int().min(60).default(7 * 24 * 3600),
  CERTUSORDO_IDEMPOTENCY_TTL: z.coerce.number().int().min(60).default(24 * 3600),
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
    dataDir: path.resolve(e.CERTUSORDO_DATA_DIR),
    masterKey: e.CERTUSORDO_MASTER_KEY,
    publicUrl: e.CERTUSORDO_PUBLIC_URL?.replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: 64 * 1024,
    rateLimitPerSecond: e.CERTUSORDO_RATE_LIMIT,
    accessTokenTtlSeconds: e.CERTUSORDO_TOKEN_TTL,
    signingKeyRotationSeconds: e.CERTUSORDO_SIGNING_KEY_ROTATION,
    idempotencyTtlSeconds: e.CERTUSORDO_IDEMPOTENCY_TTL,
  });
}
