/**
 * What every remote command shares: the SDK client from flags/env, output (tables or --json),
 * exit codes per error class of the client core (sdk/src/core/errors.ts, re-exported by the SDK),
 * confirmation prompts and a progress indicator. Remote commands talk to the control plane only
 * through the SDK.
 */
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import {
  APIConnectionError,
  AuthenticationError,
  CertusOrdoClient,
  CertusOrdoError,
  ConfigurationError,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
} from '../../sdk/src';

/** Documented in cli/README.md; scripts rely on them. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  conflict: 5,
  validation: 6,
  network: 7,
} as const;

/** An error the user caused by how they called the command (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface GlobalOptions {
  endpoint?: string;
  apiKey?: string;
  json?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** The SDK client for a command: --endpoint/--api-key, else CERTUSORDO_ENDPOINT/CERTUSORDO_API_KEY. */
export function clientFor(cmd: Command): CertusOrdoClient {
  const o = globals(cmd);
  try {
    return new CertusOrdoClient({ apiKey: o.apiKey, baseUrl: o.endpoint });
  } catch (err) {
    if (err instanceof ConfigurationError) {
      throw new UsageError(err.message.replace('pass `apiKey`', 'pass --api-key').replace('baseUrl', '--endpoint'));
    }
    throw err;
  }
}

// ---- exit codes ------------------------------------------------------------------------------

/**
 * The CLI's one mapping from error classes to exit codes. Subclasses go with their parent: an
 * APITimeoutError or APIUserAbortError is a network failure (7), like any APIConnectionError; every
 * 400 is a ValidationError (6). Other API failures (5xx, 429 after the retries) are 1.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version end with code 0; every other commander error is a usage error.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof ConfigurationError) return EXIT.usage;
  if (err instanceof NotFoundError) return EXIT.notFound;
  if (err instanceof AuthenticationError || err instanceof PermissionDeniedError) return EXIT.auth;
  if (err instanceof ConflictError) return EXIT.conflict;
  if (err instanceof ValidationError) return EXIT.validation;
  if (err instanceof APIConnectionError) return EXIT.network;
  return EXIT.error;
}

/** Writes the error to stderr (JSON when --json) and returns the exit code. Never prints secrets: SDK errors contain none. */
export function reportError(err: unknown, json: boolean): number {
  const code = exitCodeFor(err);
  if (err instanceof CommanderError) return code; // commander already printed it
  if (json) {
    const e = err instanceof CertusOrdoError ? err : undefined;
    const body = {
      error: {
        code: e?.code ?? (err instanceof UsageError ? 'usage' : 'error'),
        message: err instanceof Error ? err.message : String(err),
        ...(e?.status !== undefined ? { status: e.status } : {}),
        ...(e?.details?.length ? { details: e.details } : {}),
        ...(e?.requestId ? { request_id: e.requestId } : {}),
      },
      exit_code: code,
    };
    process.stderr.write(jsonSafe(body) + '\n');
    return code;
  }
  const message = err instanceof Error ? err.message : String(err);
  const lines = [`error: ${terminalSafe(message)}`];
  if (err instanceof CertusOrdoError) {
    for (const d of err.details ?? []) lines.push(`  - ${terminalSafe(d.path ? `${d.path}: ` : '')}${terminalSafe(d.message)}`);
    if (err instanceof NotFoundError) lines.push('  (`certusordo agents list` shows the ids and names)');
    if (err instanceof AuthenticationError) lines.push('  (check CERTUSORDO_API_KEY / --api-key)');
    if (err instanceof APIConnectionError) lines.push('  (check CERTUSORDO_ENDPOINT / --endpoint and that the server is running)');
    if (err.requestId) lines.push(`  request id: ${terminalSafe(err.requestId)}`);
  }
  process.stderr.write(lines.join('\n') + '\n');
  return code;
}

// ---- output ----------------------------------------------------------------------------------

/**
 * Text from the server (names, purposes, metadata, reasons, error messages: anything an agent or
 * another user could have chosen) made inert for a terminal: C0 and C1 control characters (ESC
 * starts the ANSI sequences that move the cursor, recolour or retitle the terminal, rewrite
 * earlier lines), DEL, and the bidirectional overrides that make text display in another order
 * than it reads, each shown as a visible `\uXXXX` escape. Every human-readable output goes
 * through it; `--json` output goes through jsonSafe.
 */
const UNSAFE_FOR_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, escaped);
}

/**
 * JSON whose value is exactly the input's and which a terminal shows inertly: the encoder escapes
 * C0 controls itself but leaves DEL, the C1 controls (U+009B is a one-character CSI) and the
 * bidirectional overrides raw; those only occur inside strings, where `\uXXXX` means the same.
 */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
export function jsonSafe(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, escaped);
}

export function printJson(value: unknown): void {
  process.stdout.write(jsonSafe(value, 2) + '\n');
}

export function formatDate(d: Date | null | undefined): string {
  return d ? d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '-';
}

/** A plain aligned table (no colours, so it pipes cleanly). */
export function printTable(headers: string[], cells: string[][]): void {
  if (cells.length === 0) return;
  const rows = cells.map((r) => r.map(terminalSafe));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  process.stdout.write([line(headers), ...rows.map(line)].join('\n') + '\n');
}

/** "Key: value" lines for one object. */
export function printFields(fields: Array<[string, string]>): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  process.stdout.write(fields.map(([k, v]) => `${(k + ':').padEnd(width + 1)} ${terminalSafe(v)}`).join('\n') + '\n');
}

// ---- option parsing --------------------------------------------------------------------------

/** Collects a repeatable option; each value may also be comma-separated (`-s a:read,b:read -s c:write`). */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** Collects repeatable `key=value` pairs. */
export function collectPairs(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value.');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

/** An ISO date/time, or a relative age like `90d`, `12h`, `30m` (meaning "that long ago"). */
export function parseTime(value: string): Date {
  const now = Date.now();
  const rel = /^(\d+)([smhdw])$/.exec(value.trim());
  if (rel) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now - Number(rel[1]) * unit * 1000);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidArgumentError('expected an ISO time or an age like 90d.');
  return new Date(t);
}

// ---- interaction -----------------------------------------------------------------------------

/**
 * Asks before a destructive action. With --yes it proceeds; without a terminal to ask on it
 * refuses (exit 2) rather than guess.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError('refusing to continue without confirmation: pass --yes (no terminal to ask on)');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${terminalSafe(question)} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new CancelledError('cancelled; nothing was changed');
  } finally {
    rl.close();
  }
}

export class CancelledError extends Error {
  override name = 'CancelledError';
}

/** "Fetched 1 200 agents…" on stderr while a listing runs, only when stderr is a terminal. */
export class Progress {
  readonly #enabled = Boolean(process.stderr.isTTY);
  readonly #label: string;
  #last = 0;
  #shown = false;

  constructor(label: string) {
    this.#label = label;
  }

  update(count: number): void {
    if (!this.#enabled) return;
    const now = Date.now();
    if (now - this.#last < 100) return;
    this.#last = now;
    this.#shown = true;
    process.stderr.write(`\r\x1b[2KFetched ${count} ${this.#label}…`);
  }

  done(): void {
    if (this.#enabled && this.#shown) process.stderr.write('\r\x1b[2K');
  }
}

/** Collects a listing (every page, up to `limit` items) with a progress indicator. */
export async function collect<T>(items: AsyncIterable<T>, label: string, limit: number | undefined): Promise<T[]> {
  const out: T[] = [];
  const progress = new Progress(label);
  try {
    for await (const item of items) {
      out.push(item);
      progress.update(out.length);
      if (limit !== undefined && out.length >= limit) break;
    }
  } finally {
    progress.done();
  }
  return out;
}

/** The `name` subcommand of `parent`, created with `description` when it does not exist yet. */
export function group(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}
