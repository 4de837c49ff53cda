/**
 * hclog-compatible JSON logging on stderr. go-plugin reads the plugin's stderr line by line and
 * keeps the level of JSON lines with @level/@message/@timestamp, so TF_LOG_PROVIDER=debug shows
 * these. stdout is reserved for the handshake line. Never pass secrets or API keys as fields:
 * `redact` below is a second line of defence, not a licence.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const SECRET_FIELD = /key|secret|token|authorization|password/i;
const SECRET_VALUE = /\b(aa_[A-Za-z0-9_-]{6,}|cos_[A-Za-z0-9_-]{6,})/g;

/** Go's `2006-01-02T15:04:05.000000Z07:00` in UTC (JS has milliseconds only, so pad to micros). */
export function hclogTimestamp(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = SECRET_FIELD.test(k) && k !== 'idempotency_key' ? '[redacted]' : typeof v === 'string' ? v.replace(SECRET_VALUE, '[redacted]') : v;
  }
  return out;
}

export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

/**
 * Like terraform-plugin-go, honour TF_LOG_PROVIDER / TF_LOG (inherited from terraform): Terraform
 * would drop lines below its level anyway, and formatting and piping thousands of trace lines per
 * plan costs real time. Unset means warnings and errors only.
 */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel | 'off' {
  const raw = (env.TF_LOG_PROVIDER || env.TF_LOG || '').trim().toLowerCase();
  if (raw === '') return 'warn';
  if (raw === 'off') return 'off';
  if (raw === 'json') return 'trace';
  return (LEVELS as readonly string[]).includes(raw) ? (raw as LogLevel) : 'trace';
}

export function createLogger(
  write: (line: string) => void = (l) => process.stderr.write(l),
  minLevel: LogLevel | 'off' = 'trace',
): Logger {
  const min = minLevel === 'off' ? LEVELS.length : LEVELS.indexOf(minLevel);
  const log = (level: LogLevel, message: string, fields: LogFields = {}): void => {
    if (LEVELS.indexOf(level) < min) return;
    const entry = {
      '@level': level,
      '@message': message.replace(SECRET_VALUE, '[redacted]'),
      '@module': 'certusordo',
      '@timestamp': hclogTimestamp(),
      ...redact(fields),
    };
    write(JSON.stringify(entry) + '\n');
  };
  return {
    log,
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

