/** Structured JSON logs (pino). Credentials are redacted at the logger, whatever a caller passes. */
import pino, { Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  '*.secret',
  '*.key',
  '*.api_key',
  '*.apiKey',
  '*.access_token',
  '*.client_assertion',
  '*.token',
  '*.password',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'certusordo' } }, destination);
}
