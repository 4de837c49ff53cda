/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests
 * (zod 4's JSON Schema output), plus a dependency-free HTML rendering for /docs.
 */
import { z } from 'zod';
import { AgentCreate, AgentKeyCreate, AgentKeyView, AgentListQuery, AgentUpdate, AgentView, TransitionBody } from './schemas/agents';
import { AuditCheckpoint, AuditListQuery, AuditVerification, AuditVerifyQuery } from './schemas/audit';
import { ApiKeyCreate } from './services/organizations';

interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  summary: string;
  role?: 'admin' | 'operator' | 'reader';
  body?: z.ZodType;
  query?: z.ZodObject;
  response?: z.ZodType;
  status?: number;
}

const ErrorBody = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.array(z.object({ path: z.string(), message: z.string() })) }),
    request_id: z.string(),
  })
  .meta({ id: 'Error' });

const AgentPage = z.object({ data: z.array(AgentView), next_cursor: z.string().nullable() }).meta({ id: 'AgentPage' });

export const OPERATIONS: Operation[] = [
  { method: 'post', path: '/v1/agents', summary: 'Create an agent (Idempotency-Key supported)', role: 'admin', body: AgentCreate, response: AgentView, status: 201 },
  { method: 'get', path: '/v1/agents', summary: 'List agents (keyset pagination)', role: 'reader', query: AgentListQuery, response: AgentPage },
  { method: 'get', path: '/v1/agents/{id}', summary: 'Get an agent', role: 'reader', response: AgentView },
  { method: 'patch', path: '/v1/agents/{id}', summary: 'Update name, scopes or metadata', role: 'admin', body: AgentUpdate, response: AgentView },
  { method: 'post', path: '/v1/agents/{id}/suspend', summary: 'Suspend (tokens stop working at once)', role: 'operator', body: TransitionBody, response: AgentView },
  { method: 'post', path: '/v1/agents/{id}/activate', summary: 'Reactivate a suspended agent', role: 'operator', body: TransitionBody, response: AgentView },
  { method: 'post', path: '/v1/agents/{id}/revoke', summary: 'Revoke permanently', role: 'operator', body: TransitionBody, response: AgentView },
  { method: 'get', path: '/v1/agents/{id}/keys', summary: 'List the agent\'s public keys', role: 'reader', response: z.object({ data: z.array(AgentKeyView) }) },
  { method: 'post', path: '/v1/agents/{id}/keys', summary: 'Add a key (generated, with a one-time secret, or brought)', role: 'admin', body: AgentKeyCreate, response: AgentKeyView, status: 201 },
  { method: 'delete', path: '/v1/agents/{id}/keys/{kid}', summary: 'Remove a key', role: 'admin', response: AgentKeyView },
  { method: 'post', path: '/v1/api-keys', summary: 'Create an API key (shown once)', role: 'admin', body: ApiKeyCreate, status: 201 },
  { method: 'get', path: '/v1/api-keys', summary: 'List API keys (without secrets)', role: 'admin' },
  { method: 'get', path: '/v1/api-keys/me', summary: 'The presented key: {id, organization_id, role}', role: 'reader' },
  { method: 'post', path: '/v1/api-keys/{id}/revoke', summary: 'Revoke an API key', role: 'admin' },
  { method: 'get', path: '/v1/audit-events', summary: 'List audit events', role: 'reader', query: AuditListQuery },
  { method: 'get', path: '/v1/audit-events/checkpoint', summary: "Verify the chain and sign its head with the organization's token signing key (compact JWS)", role: 'reader', response: AuditCheckpoint },
  { method: 'get', path: '/v1/audit-events/verify', summary: 'Verify the keyed audit chain from the last verified point (full=true: admin, whole chain); with checkpoint=<jws>, also that the log extends it', role: 'reader', query: AuditVerifyQuery, response: AuditVerification },
  { method: 'get', path: '/healthz', summary: 'Liveness' },
  { method: 'get', path: '/readyz', summary: 'Readiness (database reachable)' },
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
    paths[op.path]![op.method] = {
      summary: op.summary,
      ...(op.role ? { security: [{ apiKey: [] }], 'x-required-role': op.role } : { security: [] }),
      parameters: params,
      ...(op.body ? { requestBody: { required: false, content: { 'application/json': { schema: schemaOf(op.body, 'input') } } } } : {}),
      responses: {
        [String(op.status ?? 200)]: { description: 'Success', ...(op.response ? { content: { 'application/json': { schema: schemaOf(op.response, 'output') } } } : {}) },
        default: { description: 'Error', content: { 'application/json': { schema: schemaOf(ErrorBody, 'output') } } },
      },
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
