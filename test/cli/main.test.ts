/** Unit tests of the CLI's own logic (no server): module loading, option parsers, exit codes. */
import { CommanderError } from 'commander';
import { needsServerModules } from '../../cli/main';
import { collectList, collectPairs, exitCodeFor, parseTime, UsageError } from '../../cli/commands/common';
import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  CertusOrdoError,
  ConfigurationError,
  ConflictError,
  RateLimitError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
} from '../../sdk/src';

const argv = (...a: string[]) => ['node', 'certusordo', ...a];

it('loads the server-side modules only when the command may need them', () => {
  expect(needsServerModules(argv('agents', 'list'))).toBe(false);
  expect(needsServerModules(argv('--endpoint', 'http://x', '--api-key', 'k', 'audit', 'verify'))).toBe(false);
  expect(needsServerModules(argv('--json', 'api-keys', 'create', '--name', 'n'))).toBe(false);
  expect(needsServerModules(argv('sessions', 'list'))).toBe(false);
  expect(needsServerModules(argv('provider', 'install', '--version', '1.2.3'))).toBe(false);
  expect(needsServerModules(argv('agents', 'keys', 'list', 'id'))).toBe(false);
  expect(needsServerModules(argv('api-keys', 'create-local', '--org', 'o'))).toBe(true);
  expect(needsServerModules(argv('api-keys', '--help'))).toBe(true);
  expect(needsServerModules(argv('serve'))).toBe(true);
  expect(needsServerModules(argv('--help'))).toBe(true);
  expect(needsServerModules(argv())).toBe(true);
});

it('maps each error class to its documented exit code', () => {
  const cases: Array<[unknown, number]> = [
    [new CommanderError(0, 'commander.helpDisplayed', ''), 0],
    [new CommanderError(1, 'commander.unknownCommand', ''), 2],
    [new UsageError('x'), 2],
    [new ConfigurationError('bad key characters'), 2],
    [new NotFoundError('x'), 3],
    [new AuthenticationError('x'), 4],
    [new PermissionDeniedError('x'), 4],
    [new ConflictError('x', { code: 'invalid_transition' }), 5],
    [new ValidationError('x'), 6],
    [CertusOrdoError.generate(400, { error: 'invalid_scope' }), 6],
    [new BadRequestError('x'), 6],
    [new APIConnectionError(), 7],
    [new APITimeoutError(), 7],
    [new APIUserAbortError(), 7],
    [new InternalServerError('x'), 1],
    [new RateLimitError('x'), 1],
    [new CertusOrdoError('x'), 1],
    [new Error('x'), 1],
  ];
  for (const [err, code] of cases) expect([String(err), exitCodeFor(err)]).toEqual([String(err), code]);
});

it('parses repeatable lists, key=value pairs and times', () => {
  expect(collectList('b:read', collectList('a:read, a:write', undefined))).toEqual(['a:read', 'a:write', 'b:read']);
  expect(collectPairs('b=2=3', collectPairs('a=1', undefined))).toEqual({ a: '1', b: '2=3' });
  expect(() => collectPairs('novalue', undefined)).toThrow(/key=value/);
  const before = Date.now();
  const t = parseTime('90d').getTime();
  expect(before - 90 * 86400_000 - t).toBeLessThanOrEqual(0);
  expect(Date.now() - 90 * 86400_000 - t).toBeGreaterThanOrEqual(0);
  expect(parseTime('2026-01-02T03:04:05Z').toISOString()).toBe('2026-01-02T03:04:05.000Z');
  expect(() => parseTime('yesterday')).toThrow(/ISO time/);
});
