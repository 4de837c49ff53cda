/**
 * Route manifests: each area of the control plane (agents, api-keys, audit, oauth, sessions,
 * signing-keys, well-known, health) describes its routes as data — method, path, who may call,
 * request schemas, response schemas per status, error shape — with a handler that calls a service.
 * The composition root (compose.ts) mounts every manifest through one pipeline (routes/mount.ts)
 * with one authenticator, and the OpenAPI document is generated from the same descriptors
 * (openapi.ts), so what is served and what is documented cannot drift apart.
 *
 * Manifests are constants: they import no service instance, only the service types their handlers
 * need (`D`, handed in by the composition root when it mounts them). Anything can import a manifest
 * to read its schemas without starting a server.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import type { ApiKeyRole } from '../../../model/roles';
import type { AuthenticatedKey } from '../services/organizations';
import type { AccessTokenClaims } from '../services/tokens';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route. Each credential is `Authorization: Bearer …`:
 * - `none`: public; credentials are not looked at;
 * - `api_key`: an organization API key (`aa_…`) of at least `role`;
 * - `agent`: an agent's access token; `sessionTokens: false` refuses tokens bound to a session;
 * - `api_key_or_agent`: either; `anonymous: true` also lets a request without an Authorization
 *   header through (the handler decides what it may do).
 * A delegated token (RFC 8693 `act`: an agent acting for another) acts for its subject at resource
 * servers, not at the control plane: it is refused everywhere except where `delegatedTokens: true`
 * (revoking itself and the tokens derived from it).
 */
export type RouteAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'api_key'; readonly role: ApiKeyRole }
  | { readonly kind: 'agent'; readonly sessionTokens: boolean }
  | { readonly kind: 'api_key_or_agent'; readonly role: ApiKeyRole; readonly anonymous?: boolean; readonly delegatedTokens?: boolean };

export const auth = {
  none: { kind: 'none' },
  apiKey: <R extends ApiKeyRole>(role: R) => ({ kind: 'api_key', role }) as const,
  /** An agent access token; a session token (bound to a session by `sid`) too unless `sessionTokens: false`. */
  agent: <S extends boolean = true>(o: { sessionTokens?: S } = {}) => ({ kind: 'agent', sessionTokens: (o.sessionTokens ?? true) as S }) as const,
  apiKeyOrAgent: <R extends ApiKeyRole, N extends boolean = false>(role: R, o: { anonymous?: N; delegatedTokens?: boolean } = {}) =>
    ({ kind: 'api_key_or_agent', role, anonymous: (o.anonymous ?? false) as N, delegatedTokens: o.delegatedTokens ?? false }) as const,
} as const;

export interface ApiKeyCaller {
  readonly kind: 'api_key';
  readonly key: AuthenticatedKey;
}
export interface AgentCaller {
  readonly kind: 'agent';
  /** The validated token; `sid` is set for a session token. */
  readonly claims: AccessTokenClaims;
}
export interface AnonymousCaller {
  readonly kind: 'anonymous';
}
export type Caller = ApiKeyCaller | AgentCaller | AnonymousCaller;

/** The callers a handler can see, given its route's `auth`. */
export type CallerOf<A extends RouteAuth> = A extends { kind: 'api_key' }
  ? ApiKeyCaller
  : A extends { kind: 'agent' }
    ? AgentCaller
    : A extends { kind: 'api_key_or_agent' }
      ? ApiKeyCaller | AgentCaller | (A extends { anonymous: true } ? AnonymousCaller : never)
      : AnonymousCaller;

type Schema = z.ZodType | undefined;
type Parsed<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

export interface RequestInfo {
  readonly requestId: string | null;
  readonly clientIp: string | null;
}

export interface RouteContext<C extends Caller = Caller, B = unknown, Q = unknown, P = unknown> {
  readonly caller: C;
  /** The body, parsed by the route's `body` schema. */
  readonly body: B;
  readonly query: Q;
  /** The path parameters, parsed by the route's `params` schema. */
  readonly params: P;
  /** The Idempotency-Key header, checked (routes with `idempotent: true` only). */
  readonly idempotencyKey: string | undefined;
  readonly request: RequestInfo;
}

/** What a handler answers; the pipeline renders it in the route's `contentType`. */
export interface Reply {
  /** Default 200. */
  readonly status?: number;
  /** Omitted: no body. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * How the request is read before authentication:
 * - `json`: JSON bodies only (415 otherwise), bounded, every string and the query text checked
 *   against the model's text rule; a bodiless request has `{}`;
 * - `oauth_params`: OAuth parameters, `application/x-www-form-urlencoded` or JSON, strings only,
 *   none repeated (RFC 6749 §3.2);
 * - `nothing`: neither body nor query is read (public discovery documents).
 */
export type RequestEncoding = 'json' | 'oauth_params' | 'nothing';

/** `api`: `{error: {code, message, details}, request_id}`; `oauth`: RFC 6749 `{error, error_description}`. */
export type ErrorShape = 'api' | 'oauth';

interface RouteCommon<D, A extends RouteAuth, B extends Schema, Q extends Schema, P extends Schema> {
  readonly method: HttpMethod;
  /** OpenAPI path template (`/v1/agents/{id}`); its parameters must be the keys of `params`. */
  readonly path: string;
  readonly summary: string;
  readonly auth: A;
  readonly reads: RequestEncoding;
  readonly body?: B;
  readonly query?: Q;
  readonly params?: P;
  /** The route honours an `Idempotency-Key` header (checked before the handler runs). */
  readonly idempotent?: boolean;
  /** Every outcome that is not an error: status → body schema (null: no body). */
  readonly responses: Readonly<Record<number, z.ZodType | null>>;
  /** The media type of the `responses` bodies (default application/json). */
  readonly contentType?: string;
  /**
   * Error statuses beyond those the descriptor implies (500; 401, 403 and 429 when credentials are
   * taken; 400, 413 and 415 for a body; 400 for a query; 404 for a path parameter; 400 and 409 for
   * an Idempotency-Key), all in the route's error shape.
   */
  readonly errors?: readonly number[];
  readonly errorShape: ErrorShape;
  /**
   * `direct`: also served on the direct lane (http/direct-lane.ts), without Express, for the
   * requests every agent and relying service makes. Only POST routes without path parameters, whose
   * steps read headers from `req.headers` and answer through node's own response methods.
   */
  readonly lane?: 'direct';
  /** Named steps that run first, before the request is read (e.g. no-store headers, a per-address limit). */
  before?(deps: D): RequestHandler[];
}

/** The common route: the pipeline reads, authenticates and validates; the handler calls a service. */
export interface HandledRoute<D, A extends RouteAuth = RouteAuth, B extends Schema = Schema, Q extends Schema = Schema, P extends Schema = Schema>
  extends RouteCommon<D, A, B, Q, P> {
  handle(ctx: RouteContext<CallerOf<A>, Parsed<B>, Parsed<Q>, Parsed<P>>, deps: D): Promise<Reply>;
  readonly steps?: undefined;
}

/**
 * A protocol endpoint that is its own chain of named steps (the token endpoint: parse, check the
 * grant, authenticate the client by its assertion, check scopes, claim the assertion, issue). The
 * pipeline adds only the `before` steps and the error shape's renderer.
 */
export interface SteppedRoute<D> extends RouteCommon<D, RouteAuth, Schema, Schema, Schema> {
  steps(deps: D): Array<RequestHandler | ErrorRequestHandler>;
  readonly handle?: undefined;
}

export type Route<D> = HandledRoute<D> | SteppedRoute<D>;

export interface RouteManifest<D = never> {
  /** The area's name: the OpenAPI tag of its operations. */
  readonly area: string;
  readonly routes: readonly Route<D>[];
}

/** The common settings of a REST route: JSON request, `{error: {code, …}}` errors. */
export const REST = { reads: 'json', errorShape: 'api' } as const;

/** Builds one route of an area whose handlers need `D`: infers the caller from `auth` and the handler's `body`, `query` and `params` from their schemas. */
export type RouteBuilder<D> = <const A extends RouteAuth, B extends Schema = undefined, Q extends Schema = undefined, P extends Schema = undefined>(
  spec: HandledRoute<D, A, B, Q, P>,
) => Route<D>;

/** An area's manifest; `build` declares its routes with the typed builder it is given. */
export function manifest<D>(area: string, build: (route: RouteBuilder<D>) => Route<D>[]): RouteManifest<D> {
  return { area, routes: build((spec) => spec) };
}
