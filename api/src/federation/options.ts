/** What a process may hand the federation's key fetching besides its configuration (tests: their own CA and clock). */
export interface FederationOptions {
  /** Certificate authorities trusted for issuers instead of Node's roots (+ NODE_EXTRA_CA_CERTS). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** The clock of the issuer-key refresh interval and cache age (default Date.now). */
  now?: () => number;
  /** Per fetched document (default fetch.ts DEFAULT_FETCH_TIMEOUT_MS). */
  timeoutMs?: number;
}
