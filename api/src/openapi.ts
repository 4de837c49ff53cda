/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests and
 * describe responses (zod 4's JSON Schema output). Every status an operation can answer is listed
 * with its body: the success, the errors its shape implies (authentication, validation, a path id
 * that may not exist, rate limits), and the ones it declares (409, 503, …).
 * test/api/openapi-replay.test.ts holds real responses against it.
 */
import { z } from 'zod';
import { AgentCreate, AgentKeyCreate, AgentKeyView, AgentListQuery, AgentUpdate, AgentView, TransitionBody } from './schemas/agents';
import { AuditCheckpoint, AuditListQuery, AuditVerification, AuditVerifyQuery } from './schemas/audit';
import { ApiKeyCreate } from './services/organizations';
import { ApiKeyCreated, ApiKeyMe, ApiKeyPage, ApiKeyView, AuditEventPage, Health, OAuthErrorBody, Readiness } from './schemas/responses';

export interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  summary: string;
  /** The API-key role the route requires (it then answers 401, 403 and 429 as well). */
  role?: 'admin' | 'operator' | 'reader';
  body?: z.ZodType;
  query?: z.ZodObject;
  /** The success body (omitted: no JSON body). */
  response?: z.ZodType;
  /** The success status (default 200). */
  status?: number;
  /** Error statuses beyond those the operation's shape implies (e.g. 409 for a conflict). */
  errors?: readonly number[];
  /** Other non-error outcomes, status → body (e.g. /readyz's 503). */
  responses?: Readonly<Record<number, z.ZodType>>;
  /** `oauth`: errors are RFC 6749 `{error, error_description}` bodies instead of the API's shape. */
  errorStyle?: 'api' | 'oauth';
  /** The success body's media type (default application/json). */
  contentType?: string;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (validation_error; OAuth: invalid_request, invalid_grant, invalid_scope, …)',
  401: 'Missing or invalid credentials',
  403: 'The credentials may not do this',
  404: 'Not found (also for ids of another organization and malformed ids)',
  409: 'Conflict with the current state',
  413: 'Body too large',
  415: 'Unsupported media type',
  429: 'Rate limited (Retry-After says when to retry)',
  500: 'Internal error',
  503: 'Unavailable',
};

/** The error statuses an operation answers, from what it takes and requires. */
function errorStatuses(op: Operation): number[] {
  const out = new Set<number>([500, ...(op.errors ?? [])]);
  if (op.role) [401, 403, 429].forEach((c) => out.add(c));
  if (op.body) [400, 413, 415].forEach((c) => out.add(c));
  if (op.query) out.add(400);
  if (/\{\w+\}/.test(op.path)) out.add(404);
  return [...out].sort((a, b) => a - b);
}

const ErrorBody = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.array(z.object({ path: z.string(), message: z.string() })) }),
    request_id: z.string(),
  })
  .meta({ id: 'Error' });

const AgentPage = z.object({ data: z.array(AgentView), next_cursor: z.string().nullable() }).meta({ id: 'AgentPage' });

export const OPERATIONS: Operation[] = [
  { method: 'post', path: '/v1/agents', summary: 'Create an agent (Idempotency-Key supported)', role: 'admin', body: AgentCreate, response: AgentView, status: 201, errors: [409] },
  { method: 'get', path: '/v1/agents', summary: 'List agents (keyset pagination)', role: 'reader', query: AgentListQuery, response: AgentPage },
  { method: 'get', path: '/v1/agents/{id}', summary: 'Get an agent', role: 'reader', response: AgentView },
  { method: 'patch', path: '/v1/agents/{id}', summary: 'Update name, scopes or metadata', role: 'admin', body: AgentUpdate, response: AgentView, errors: [409] },
  { method: 'post', path: '/v1/agents/{id}/suspend', summary: 'Suspend (tokens stop working at once)', role: 'operator', body: TransitionBody, response: AgentView, errors: [409] },
  { method: 'post', path: '/v1/agents/{id}/activate', summary: 'Reactivate a suspended agent', role: 'operator', body: TransitionBody, response: AgentView, errors: [409] },
  { method: 'post', path: '/v1/agents/{id}/revoke', summary: 'Revoke permanently', role: 'operator', body: TransitionBody, response: AgentView },
  { method: 'get', path: '/v1/agents/{id}/keys', summary: 'List the agent\'s public keys', role: 'reader', response: z.object({ data: z.array(AgentKeyView) }) },
  { method: 'post', path: '/v1/agents/{id}/keys', summary: 'Add a key (generated, with a one-time secret, or brought)', role: 'admin', body: AgentKeyCreate, response: AgentKeyView, status: 201, errors: [409] },
  { method: 'delete', path: '/v1/agents/{id}/keys/{kid}', summary: 'Remove a key', role: 'admin', response: AgentKeyView, errors: [409] },
  { method: 'post', path: '/v1/api-keys', summary: 'Create an API key (shown once)', role: 'admin', body: ApiKeyCreate, response: ApiKeyCreated, status: 201, errors: [409] },
  { method: 'get', path: '/v1/api-keys', summary: 'List API keys (without secrets)', role: 'admin', response: ApiKeyPage },
  { method: 'get', path: '/v1/api-keys/me', summary: 'The presented key: {id, organization_id, role}', role: 'reader', response: ApiKeyMe },
  { method: 'post', path: '/v1/api-keys/{id}/revoke', summary: 'Revoke an API key', role: 'admin', response: ApiKeyView, errors: [409] },
  { method: 'get', path: '/v1/audit-events', summary: 'List audit events', role: 'reader', query: AuditListQuery, response: AuditEventPage },
  { method: 'get', path: '/v1/audit-events/checkpoint', summary: "Verify the chain and sign its head with the organization's token signing key (compact JWS)", role: 'reader', response: AuditCheckpoint, errors: [409] },
  { method: 'get', path: '/v1/audit-events/verify', summary: 'Verify the keyed audit chain from the last verified point (full=true: admin, whole chain); with checkpoint=<jws>, also that the log extends it', role: 'reader', query: AuditVerifyQuery, response: AuditVerification },
  { method: 'get', path: '/healthz', summary: 'Liveness', response: Health },
  { method: 'get', path: '/readyz', summary: 'Readiness (database reachable, not draining)', response: Readiness, responses: { 503: Readiness } },
];

/** Extra operations registered by other modules (OAuth, sessions) so the document stays complete. */
export function registerOperations(ops: Operation[]): void {
  OPERATIONS.push(...ops);
}

/** Named schemas (zod `.meta({id})`) are hoisted into components.schemas and referenced there. */
function schemaConverter(components: Record<string, unknown>) {
  return (s: z.ZodType, io: 'input' | 'output'): unknown => {
    const text = JSON.stringify(z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }));
    const js = JSON.parse(text.replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
    const { $schema: _ignored, $defs, ...rest } = js;
    Object.assign(components, ($defs as Record<string, unknown> | undefined) ?? {});
    return rest;
  };
}

export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, unknown> = {};
  const schemaOf = schemaConverter(schemas);
  for (const op of OPERATIONS) {
    const params: unknown[] = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (op.query) {
      // Query parameters are listed inline, so resolve a named schema's own definition.
      const raw = z.toJSONSchema(op.query, { io: 'input', unrepresentable: 'any' }) as { $ref?: string; $defs?: Record<string, unknown>; properties?: Record<string, unknown> };
      const js = (raw.$ref && raw.$defs ? raw.$defs[raw.$ref.split('/').pop()!] : raw) as { properties?: Record<string, unknown> };
      for (const [name, schema] of Object.entries(js.properties ?? {})) params.push({ name, in: 'query', required: false, schema });
    }
    paths[op.path] ??= {};
    const errorSchema = schemaOf(op.errorStyle === 'oauth' ? OAuthErrorBody : ErrorBody, 'output');
    const responses: Record<string, unknown> = {
      [String(op.status ?? 200)]: {
        description: 'Success',
        ...(op.response ? { content: { [op.contentType ?? 'application/json']: { schema: schemaOf(op.response, 'output') } } } : {}),
      },
    };
    for (const [status, body] of Object.entries(op.responses ?? {})) {
      responses[status] = { description: ERROR_DESCRIPTIONS[Number(status)] ?? 'Other outcome', content: { 'application/json': { schema: schemaOf(body, 'output') } } };
    }
    for (const status of errorStatuses(op)) {
      responses[String(status)] ??= { description: ERROR_DESCRIPTIONS[status] ?? 'Error', content: { 'application/json': { schema: errorSchema } } };
    }
    paths[op.path]![op.method] = {
      summary: op.summary,
      ...(op.role ? { security: [{ apiKey: [] }], 'x-required-role': op.role } : { security: [] }),
      parameters: params,
      ...(op.body ? { requestBody: { required: false, content: { 'application/json': { schema: schemaOf(op.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'CertusOrdo API', version: '1', description: 'Cryptographic identities for AI agents.' },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: { schemas, securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Organization API key (aa_…)' } } },
    paths,
  };
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The routes as table rows: the /docs page's fallback when JavaScript is off. */
export function operationRows(): string {
  return OPERATIONS.map((o) => `<tr><td><code>${o.method.toUpperCase()}</code></td><td><code>${esc(o.path)}</code></td><td>${esc(o.summary)}</td><td>${o.role ?? 'public'}</td></tr>`).join('\n');
}
