/**
 * The limits the control plane enforces that a client can run into: page sizes, list filters,
 * session bounds, free-text lengths and token lifetimes. The API's schemas enforce these numbers;
 * the SDK, the CLI, the console and the provider read them (or the rule texts below) instead of
 * restating them. The agent's own field limits live with their rules in agent.ts and scope.ts.
 * Dependency-free (the browser SDK and the console import it).
 */
import { SCOPE_MAX_LENGTH, SCOPES_MAX } from './scope';

/** Agent and session lists: `limit` is 1-200, 50 when omitted. */
export const LIST_PAGE_MAX = 200;
export const LIST_PAGE_DEFAULT = 50;
export const LIST_PAGE_RULE = `1-${LIST_PAGE_MAX} (default ${LIST_PAGE_DEFAULT})`;

/** The audit log's list: larger pages, the chain is read in bulk. */
export const AUDIT_PAGE_MAX = 500;
export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_RULE = `1-${AUDIT_PAGE_MAX} (default ${AUDIT_PAGE_DEFAULT})`;

/** Most agent ids one list request may name (`?id=…` repeated): one page's worth. */
export const LIST_IDS_MAX = LIST_PAGE_MAX;
export const LIST_IDS_RULE = `at most ${LIST_IDS_MAX} ids per request`;

/** Longest `name` / `name_prefix` filter the agent list accepts (longer than any name, so a typo is not an error). */
export const NAME_FILTER_MAX = 256;

/** Free text recorded in the audit log: a transition's `reason`, a session's `purpose`, an operation's `description`. */
export const REASON_MAX = 500;

/** An API key's `name`. */
export const API_KEY_NAME_MAX = 100;

/** A session lives 1-3600 seconds, 900 when `ttl_seconds` is omitted. */
export const SESSION_TTL_MAX_SECONDS = 3600;
export const SESSION_TTL_DEFAULT_SECONDS = 900;
export const SESSION_TTL_RULE = `1-${SESSION_TTL_MAX_SECONDS} seconds (default ${SESSION_TTL_DEFAULT_SECONDS})`;
/** Largest operation budget (`max_operations`) a session may have. */
export const SESSION_MAX_OPERATIONS = 1_000_000;
/** Longest `scope` one recorded operation may name. */
export const OPERATION_SCOPE_MAX = SCOPE_MAX_LENGTH;
/**
 * A token request's `scope`: at most this many characters and SCOPES_MAX scopes. A wildcard
 * covers scopes nobody granted by name, so without a bound one request could make a token too
 * long for any verifier (and its audit event as large as the body).
 */
export const TOKEN_SCOPE_PARAM_MAX = 4096;
export const TOKEN_SCOPE_PARAM_RULE = `at most ${SCOPES_MAX} scopes and ${TOKEN_SCOPE_PARAM_MAX} characters`;

/**
 * Access tokens: `CERTUSORDO_TOKEN_TTL` seconds (30-3600, default 300). No token outlives the
 * maximum, whatever the configuration, so a retired signing key can be dropped after it.
 */
export const ACCESS_TOKEN_TTL_MIN_SECONDS = 30;
export const ACCESS_TOKEN_TTL_MAX_SECONDS = 3600;
export const ACCESS_TOKEN_TTL_DEFAULT_SECONDS = 300;
export const ACCESS_TOKEN_TTL_RULE =
  `\`CERTUSORDO_TOKEN_TTL\` seconds (${ACCESS_TOKEN_TTL_MIN_SECONDS}-${ACCESS_TOKEN_TTL_MAX_SECONDS}, default ${ACCESS_TOKEN_TTL_DEFAULT_SECONDS})`;

/** A client assertion's `exp` may be at most this far ahead of the server's clock. */
export const CLIENT_ASSERTION_MAX_LIFETIME_SECONDS = 300;

/**
 * Resource servers that confirm tokens with the control plane (the SDK kits' `introspection`
 * option) reuse an answer briefly: at most 1 s, so a suspension refuses the next call within 1 s.
 */
export const INTROSPECTION_CACHE_TTL_MAX_SECONDS = 1;
export const INTROSPECTION_CACHE_TTL_DEFAULT_SECONDS = 0.5;
/** How many tokens' answers such a cache holds unless told otherwise (the oldest is dropped first). */
export const INTROSPECTION_CACHE_SIZE = 1000;
export const INTROSPECTION_CACHE_RULE = `answers are reused for 0-${INTROSPECTION_CACHE_TTL_MAX_SECONDS} s (default ${INTROSPECTION_CACHE_TTL_DEFAULT_SECONDS} s), for ${INTROSPECTION_CACHE_SIZE} tokens unless told otherwise`;
