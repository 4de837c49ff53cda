/**
 * Domain errors carry no HTTP status: each edge maps every domain code exactly once (REST: one
 * status; the OAuth endpoints: one status and one RFC 6749 error), and the rendered responses are
 * what those tables say. Services, operations and the domain never name an HTTP status or an edge.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import {
  ConflictError, DOMAIN_ERROR_CODES, DomainError, DomainErrorCode, ForbiddenError, InvalidClientError, InvalidDpopProofError, InvalidGrantError, InvalidScopeError,
  InvalidTargetError, InvalidTransitionError, NotFoundError, PayloadTooLargeError, RateLimitedError, ServiceUnavailableError, UnauthenticatedError,
  UnsupportedGrantTypeError, UnsupportedMediaTypeError, UnsupportedResponseTypeError, UseDpopNonceError, ValidationError,
} from '../../api/src/domain/errors';
import { REST_STATUS } from '../../api/src/errors';
import { OAUTH_ERRORS } from '../../api/src/oauth/errors';
import { errorHandler } from '../../api/src/middleware/error-handler';
import { oauthErrorHandler } from '../../api/src/oauth/errors';
import { assignRequestId } from '../../api/src/middleware/request-id';
import { createLogger } from '../../api/src/logger';

/** One instance per code; a `Record` over the codes, so a new code without an example does not compile. */
const EXAMPLES: Record<DomainErrorCode, () => DomainError> = {
  validation_error: () => new ValidationError('bad input', [{ path: 'name', message: 'required' }]),
  unauthenticated: () => new UnauthenticatedError('who are you'),
  forbidden: () => new ForbiddenError('not you', [{ path: 'reason', message: 'scope_revoked' }]),
  not_found: () => new NotFoundError('no such thing'),
  conflict: () => new ConflictError('taken'),
  invalid_transition: () => new InvalidTransitionError('cannot'),
  payload_too_large: () => new PayloadTooLargeError('too large'),
  unsupported_media_type: () => new UnsupportedMediaTypeError('not json'),
  rate_limited: () => new RateLimitedError('slow down', 7, 'token_rate_limited'),
  unavailable: () => new ServiceUnavailableError('internal detail that must not leak'),
  invalid_client: () => new InvalidClientError('Client authentication failed', 'unknown_agent'),
  invalid_grant: () => new InvalidGrantError('The agent is suspended', 'agent_suspended'),
  invalid_scope: () => new InvalidScopeError('not granted'),
  invalid_target: () => new InvalidTargetError('bad resource'),
  unsupported_grant_type: () => new UnsupportedGrantTypeError('client_credentials only'),
  unsupported_response_type: () => new UnsupportedResponseTypeError('no authorization codes here'),
  invalid_dpop_proof: () => new InvalidDpopProofError('The DPoP proof htu must be this request\'s URL', 'htu_mismatch'),
  use_dpop_nonce: () => new UseDpopNonceError('The DPoP proof must carry the server\'s current nonce', 'nonce_missing'),
};

const silent = createLogger('silent');

/** A real Express app whose one route throws `err`, rendered by the given edge's error middleware. */
function appThrowing(err: DomainError, edge: 'rest' | 'oauth') {
  const app = express();
  app.use((req, res, next) => {
    assignRequestId(req, res);
    next();
  });
  app.get('/throw', (_req: Request, _res: Response, next: NextFunction) => next(err));
  app.use(edge === 'rest' ? errorHandler(silent) : oauthErrorHandler(silent));
  return app;
}

test('every domain code has an example of that code, and no error carries an HTTP status', () => {
  expect(Object.keys(EXAMPLES).sort()).toEqual([...DOMAIN_ERROR_CODES].sort());
  for (const code of DOMAIN_ERROR_CODES) {
    const err = EXAMPLES[code]();
    expect(err.code).toBe(code);
    for (const field of ['status', 'statusCode', 'httpStatus', 'error']) expect(field in err).toBe(false);
  }
});

test('each edge maps every domain code to exactly one answer', () => {
  expect(Object.keys(REST_STATUS).sort()).toEqual([...DOMAIN_ERROR_CODES].sort());
  expect(Object.keys(OAUTH_ERRORS).sort()).toEqual([...DOMAIN_ERROR_CODES].sort());
  for (const code of DOMAIN_ERROR_CODES) {
    expect(REST_STATUS[code]).toBeGreaterThanOrEqual(400);
    expect(REST_STATUS[code]).toBeLessThan(600);
    expect(OAUTH_ERRORS[code].status).toBeGreaterThanOrEqual(400);
    expect(OAUTH_ERRORS[code].error).toMatch(/^[a-z_]+$/);
  }
});

test.each([...DOMAIN_ERROR_CODES])('REST renders %s with its table status and the API error body', async (code) => {
  const err = EXAMPLES[code]();
  const res = await request(appThrowing(err, 'rest')).get('/throw');
  expect(res.status).toBe(REST_STATUS[code]);
  const shown = res.status < 500;
  expect(res.body).toEqual({
    error: { code, message: shown ? err.message : 'An internal error occurred', details: shown ? err.details : [] },
    request_id: expect.any(String),
  });
  expect(JSON.stringify(res.body)).not.toContain(err.reason ?? '\u0000');
  if (err instanceof RateLimitedError) expect(res.headers['retry-after']).toBe('7');
  if (code === 'unauthenticated') expect(res.headers['www-authenticate']).toBe('Bearer realm="certusordo"');
  // RFC 9449 §7.1: a resource's DPoP refusals challenge with the DPoP scheme and the algorithms it takes.
  if (code === 'invalid_dpop_proof' || code === 'use_dpop_nonce') expect(res.headers['www-authenticate']).toBe(`DPoP realm="certusordo", error="${code}", algs="EdDSA Ed25519 ES256"`);
});

test.each([...DOMAIN_ERROR_CODES])('the OAuth endpoints render %s with its table status and RFC 6749 error', async (code) => {
  const err = EXAMPLES[code]();
  const res = await request(appThrowing(err, 'oauth')).get('/throw');
  const { status, error } = OAUTH_ERRORS[code];
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error, error_description: status < 500 ? err.message : 'An internal error occurred' });
  expect(res.headers['cache-control']).toBe('no-store');
  if (status === 401) expect(res.headers['www-authenticate']).toBe(`Bearer realm="certusordo", error="${error}"`);
  if (err instanceof RateLimitedError) expect(res.headers['retry-after']).toBe('7');
});

test('an unexpected error is a 500 at both edges, with nothing of it shown', async () => {
  const boom = new Error('connection refused to 10.0.0.5') as unknown as DomainError;
  const rest = await request(appThrowing(boom, 'rest')).get('/throw');
  expect(rest.status).toBe(500);
  expect(rest.body.error).toEqual({ code: 'internal_error', message: 'An internal error occurred', details: [] });
  const oauth = await request(appThrowing(boom, 'oauth')).get('/throw');
  expect(oauth.status).toBe(500);
  expect(oauth.body).toEqual({ error: 'server_error', error_description: 'An internal error occurred' });
});

/** The edges (and what only edges use): the layers below them never import these. */
const EDGES = ['errors', 'oauth/errors', 'middleware/error-handler', 'express', 'supertest'];

/** The layers below the edges: they throw domain errors and never choose an HTTP status. */
test('services, operations and the domain import no edge and name no HTTP status', () => {
  const root = path.join(__dirname, '../../api/src');
  const files = ['services', 'db', 'domain'].flatMap((dir) => listTs(path.join(root, dir)));
  expect(files.length).toBeGreaterThan(10);
  const offences: string[] = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const rel = path.relative(root, file);
    for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
      const target = spec!.startsWith('.') ? path.relative(root, path.resolve(path.dirname(file), spec!)) : spec!;
      if (EDGES.includes(target)) offences.push(`${rel}: imports ${target}`);
    }
    if (/\bstatus(Code)?\s*[:=]\s*[1-5]\d\d\b/.test(text)) offences.push(`${rel}: names an HTTP status`);
    if (/new \w*Error\(\s*[1-5]\d\d\b/.test(text)) offences.push(`${rel}: builds an error with an HTTP status`);
  }
  expect(offences).toEqual([]);
});

function listTs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listTs(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}
