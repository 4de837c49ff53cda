/**
 * The one thing the core needs from an HTTP stack. `globalThis.fetch` satisfies it (browsers, Node,
 * Deno, Bun, workers); the provider passes an adapter over node:http (keep-alive, body cap,
 * loopback-only name resolution). Tests pass wrappers that lose or delay responses on purpose.
 */

/** The part of `Headers` the core reads. */
export interface HeadersLike {
  get(name: string): string | null;
}

export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Aborted on timeout or by the caller: the adapter must stop and reject. */
  signal: AbortSignal;
  /**
   * `manual`: resolve with the answer to this request itself, a 3xx included, and follow nothing
   * (the request carries an agent's credentials, which must not travel to wherever a redirect points).
   */
  redirect?: 'manual' | undefined;
}

export interface FetchResponse {
  readonly status: number;
  readonly headers: HeadersLike;
  /** The whole body; read under the same timeout as the request. */
  text(): Promise<string>;
}

export type Fetch = (url: string, init: FetchInit) => Promise<FetchResponse>;
