/**
 * Which control-plane endpoints the provider may send its API key to. Every request carries the
 * organization's admin key in a header, so plain http:// is allowed only where the bytes never
 * leave the machine (loopback), unless the operator opts in explicitly. https:// is always allowed.
 *
 * Nothing here prints the endpoint as given: a URL can carry credentials (userinfo, a query
 * parameter), so messages use `displayEndpoint`, which keeps only scheme, host, port and path.
 */
import * as dns from 'node:dns';
import * as net from 'node:net';
import { ConfigurationError } from '../../../sdk/src/core/errors';

export const INSECURE_ENV = 'CERTUSORDO_INSECURE';

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
// IPv4-mapped 127/8 (::ffff:127.x.x.x) reaches the same loopback interface.
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** An IP address (no brackets) in 127.0.0.0/8 or ::1 (also IPv4-mapped). */
export function isLoopbackAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return LOOPBACK.check(address, 'ipv4');
  if (family === 6) return LOOPBACK.check(address, 'ipv6');
  return false;
}

/**
 * A URL hostname (as `URL.hostname` spells it: lower case, IPv6 in brackets, IPv4 shorthands
 * such as `127.1` already normalised) that names the loopback interface. `localhost` counts;
 * the transport then also refuses to connect unless it resolves to a loopback address.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === 'localhost.') return true;
  return isLoopbackAddress(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
}

/** `CERTUSORDO_INSECURE=1` (or `true`) opts in; anything else, including unset, does not. */
export function insecureFromEnv(env: NodeJS.ProcessEnv): boolean {
  const v = (env[INSECURE_ENV] ?? '').trim().toLowerCase();
  return v === '1' || v === 'true';
}

/** Scheme, host, port and path only: never userinfo, query or fragment. */
export function displayEndpoint(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/** True when sending the API key to this URL needs the `insecure` opt-in. */
export function needsInsecureOptIn(url: URL): boolean {
  return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
}

export interface EndpointProblem {
  summary: string;
  detail: string;
  /**
   * False when the value holds a credential: a diagnostic with an attribute path makes terraform
   * quote the source line (and the values of variables it references), credential included.
   */
  quoteSource: boolean;
}

export const INSECURE_FIX =
  'Use an https:// endpoint. Only on a network you trust, opt in to plain http with `insecure = true` in the provider "certusordo" block or CERTUSORDO_INSECURE=1 in the environment. Plain http is always allowed to loopback (127.0.0.0/8, ::1, localhost).';

/** The `code` of the ConfigurationError a refused endpoint raises at request time. */
export const INSECURE_ENDPOINT = 'insecure_endpoint';

/** The request-time refusal (defence in depth behind ConfigureProvider's checks): nothing was sent. */
export function insecureEndpointError(reason: string): ConfigurationError {
  return new ConfigurationError(`refused to send the API key over plain http: ${reason}. ${INSECURE_FIX}`, { code: INSECURE_ENDPOINT });
}

export function isInsecureEndpointError(err: unknown): err is ConfigurationError {
  return err instanceof ConfigurationError && err.code === INSECURE_ENDPOINT;
}

/**
 * Static checks of an endpoint before anything is sent to it. `source` names where the value came
 * from (`endpoint` or `CERTUSORDO_ENDPOINT`) so the message says what to change.
 */
export function endpointProblem(raw: string, opts: { insecure: boolean; source: string; fix: string }): EndpointProblem | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not echoed: an unparseable value may still hold a credential.
    return { summary: 'Invalid endpoint', detail: `${opts.source} is not an absolute http:// or https:// URL. ${opts.fix}`, quoteSource: true };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      summary: 'Invalid endpoint',
      detail: `${opts.source} uses the scheme "${url.protocol}"; only http:// and https:// are supported. ${opts.fix}`,
      quoteSource: true,
    };
  }
  if (url.username || url.password) {
    return {
      summary: 'Credentials in endpoint URL',
      detail: `${opts.source} (${displayEndpoint(url)}) contains a user name or password (the "user:password@" part). The provider never sends or prints them; remove them from the URL and authenticate with \`api_key\` (or CERTUSORDO_API_KEY).`,
      quoteSource: false,
    };
  }
  if (url.search || url.hash) {
    return {
      summary: 'Invalid endpoint',
      detail: `${opts.source} (${displayEndpoint(url)}) must be a base URL without a query string or fragment. ${opts.fix}`,
      // A query string is where tokens are often put.
      quoteSource: false,
    };
  }
  if (needsInsecureOptIn(url) && !opts.insecure) {
    return {
      summary: 'Insecure endpoint',
      detail: `${opts.source} (${displayEndpoint(url)}) uses plain http:// to a host that is not loopback, so the API key and agent secrets would cross the network unencrypted. The provider refused it before sending any request. ${INSECURE_FIX}`,
      quoteSource: true,
    };
  }
  return null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
type DnsLookup = (hostname: string, options: dns.LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

/**
 * A `lookup` for node:net that only ever yields loopback addresses: a plain-http request to
 * `localhost` must not follow a resolver (or hosts file) that points the name elsewhere.
 * `resolve` is injectable so the filter can be tested without DNS traffic.
 */
export function loopbackOnlyLookup(resolve: DnsLookup = (h, o, cb) => dns.lookup(h, o, cb)): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const ok = addresses.filter((a) => isLoopbackAddress(a.address));
      if (!ok.length) {
        const e: NodeJS.ErrnoException = new Error(`${hostname} does not resolve to a loopback address`);
        e.code = 'ENOTLOOPBACK';
        return callback(e, []);
      }
      if (options.all) return callback(null, ok);
      return callback(null, ok[0]!.address, ok[0]!.family);
    });
  }) as net.LookupFunction;
}
