/**
 * The OpenAPI 3.1 document, generated from the route manifests alone (routes/manifest.ts): the
 * same zod schemas that validate requests and describe responses (zod 4's JSON Schema output).
 * Every status an operation can answer is listed with its body: its declared outcomes, the errors
 * its descriptor implies (credentials, body, query, path parameters, Idempotency-Key) and the ones
 * it declares (409, …), in its error shape (the API's or RFC 6749's).
 * test/api/openapi-replay.test.ts holds real responses against it.
 */
import { z } from 'zod';
import type { Route, RouteAuth, RouteManifest } from './routes/manifest';
import { ApiErrorBody, OAuthErrorBody } from './schemas/errors';

export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, OpenApiOperation>> };

export interface OpenApiOperation {
  summary: string;
  tags: string[];
  'x-auth': string;
  [field: string]: unknown;
}

const STATUS_DESCRIPTIONS: Record<number, string> = {
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

const REQUEST_MEDIA_TYPES = { json: ['application/json'], oauth_params: ['application/x-www-form-urlencoded', 'application/json'], nothing: [] };

/** The error statuses a route answers, from what it takes and requires, plus those it declares. */
function errorStatuses(route: Route<unknown>): number[] {
  const out = new Set<number>([500, ...(route.errors ?? [])]);
  if (route.auth.kind !== 'none') [401, 403, 429].forEach((c) => out.add(c));
  if (route.body) [400, 413, 415].forEach((c) => out.add(c));
  if (route.query) out.add(400);
  if (route.params) out.add(404);
  // A malformed key (400), or the same key with another body (409).
  if (route.idempotent) [400, 409].forEach((c) => out.add(c));
  return [...out].sort((a, b) => a - b);
}

/** Who may call, in words (the operation's `x-auth`, the /docs fallback table). */
export function describeAuth(a: RouteAuth): string {
  switch (a.kind) {
    case 'none':
      return 'public';
    case 'api_key':
      return `API key (${a.role})`;
    case 'agent':
      return a.sessionTokens ? 'agent access token or session token' : "agent access token (not a session token)";
    case 'api_key_or_agent':
      return `API key (${a.role}) or agent access token${a.anonymous ? ', or none' : ''}`;
  }
}

function security(a: RouteAuth): Array<Record<string, string[]>> {
  switch (a.kind) {
    case 'none':
      return [];
    case 'api_key':
      return [{ apiKey: [] }];
    case 'agent':
      return [{ agentToken: [] }];
    case 'api_key_or_agent':
      return [{ apiKey: [] }, { agentToken: [] }, ...(a.anonymous ? [{}] : [])];
  }
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

type JsonObjectSchema = { $ref?: string; $defs?: Record<string, unknown>; properties?: Record<string, unknown>; required?: string[] };

/** A parameter schema's properties, inline (parameters cannot be a $ref to an object schema). */
function inlineProperties(s: z.ZodType): { properties: Record<string, unknown>; required: string[] } {
  const raw = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as JsonObjectSchema;
  const js = (raw.$ref && raw.$defs ? raw.$defs[raw.$ref.split('/').pop()!] : raw) as JsonObjectSchema;
  return { properties: js.properties ?? {}, required: js.required ?? [] };
}

function pathParameters(route: Route<unknown>): unknown[] {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const declared = route.params ? inlineProperties(route.params).properties : {};
  const keys = Object.keys(declared);
  if (names.length !== keys.length || names.some((n) => !keys.includes(n))) {
    throw new Error(`${route.method.toUpperCase()} ${route.path}: the params schema must declare exactly the path's parameters (${names.join(', ') || 'none'})`);
  }
  return names.map((name) => ({ name, in: 'path', required: true, schema: declared[name] }));
}

const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Retries with the same key replay the first response (201) instead of creating again; the same key with another body is 409',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
};

export function openApiDocument(manifests: readonly RouteManifest<never>[], publicUrl?: string): OpenApiDocument {
  const paths: Record<string, Record<string, OpenApiOperation>> = {};
  const schemas: Record<string, unknown> = {};
  const schemaOf = schemaConverter(schemas);
  for (const manifest of manifests) {
    for (const route of manifest.routes) {
      const params: unknown[] = pathParameters(route);
      if (route.query) {
        const { properties, required } = inlineProperties(route.query);
        for (const [name, schema] of Object.entries(properties)) params.push({ name, in: 'query', required: required.includes(name), schema });
      }
      if (route.idempotent) params.push(IDEMPOTENCY_KEY_PARAMETER);

      const errorSchema = schemaOf(route.errorShape === 'oauth' ? OAuthErrorBody : ApiErrorBody, 'output');
      const responses: Record<string, unknown> = {};
      for (const [status, body] of Object.entries(route.responses)) {
        const code = Number(status);
        responses[status] = {
          description: code < 300 ? 'Success' : (STATUS_DESCRIPTIONS[code] ?? 'Other outcome'),
          ...(body ? { content: { [route.contentType ?? 'application/json']: { schema: schemaOf(body, 'output') } } } : {}),
        };
      }
      for (const status of errorStatuses(route)) {
        responses[String(status)] ??= { description: STATUS_DESCRIPTIONS[status] ?? 'Error', content: { 'application/json': { schema: errorSchema } } };
      }

      const body = route.body;
      const requestBody = body
        ? {
            // Required when an empty body is refused.
            required: !body.safeParse({}).success,
            content: Object.fromEntries(REQUEST_MEDIA_TYPES[route.reads].map((t) => [t, { schema: schemaOf(body, 'input') }])),
          }
        : undefined;

      const byMethod = (paths[route.path] ??= {});
      if (byMethod[route.method]) throw new Error(`${route.method.toUpperCase()} ${route.path} is declared twice`);
      byMethod[route.method] = {
        summary: route.summary,
        tags: [manifest.area],
        'x-auth': describeAuth(route.auth),
        security: security(route.auth),
        ...('role' in route.auth ? { 'x-required-role': route.auth.role } : {}),
        parameters: params,
        ...(requestBody ? { requestBody } : {}),
        responses,
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'CertusOrdo API', version: '1', description: 'Cryptographic identities for AI agents.' },
    ...(publicUrl ? { servers: [{ url: publicUrl }] } : {}),
    tags: manifests.map((m) => ({ name: m.area })),
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Organization API key (aa_…); the operation\'s x-required-role is the least role it accepts' },
        agentToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An agent\'s access token from POST /v1/oauth/token (or a session token from POST /v1/sessions). A DPoP-bound token (token_type DPoP, RFC 9449) goes as Authorization: DPoP <token> with a DPoP header: a proof for this request signed by the token\'s key' },
      },
    },
    paths,
  };
}
