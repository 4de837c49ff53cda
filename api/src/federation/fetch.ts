/**
 * Fetching an issuer's documents (OpenID discovery, JWKS) without letting the fetch reach what it
 * must not: https only; every address is checked when connecting — by a `lookup` on the https
 * agent for names (so a name that resolves to a private address is refused after resolution, and
 * cannot be swapped between a check and the connection), before connecting for IP literals — and
 * each redirect is followed by hand through the same checks. Answers are bounded in size and time.
 *
 * Trust: Node's roots plus NODE_EXTRA_CA_CERTS (read by Node at start-up), so a private CA is
 * trusted the Node way; `ca` replaces them (tests hand in their own CA).
 */
import dns from 'node:dns';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { addressAllowed, classifyAddress, classifyHost, refusalText } from './addresses';

export interface FetchPolicy {
  /** CERTUSORDO_FEDERATION_ALLOW_PRIVATE_NETWORKS: loopback, private and link-local addresses allowed. */
  allowPrivateNetworks: boolean;
  /** Certificate authorities to trust instead of Node's (tests); unset: Node's, with NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Per document: connect, TLS, headers and body together. */
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  /** The resolver (default dns.lookup; tests map names to their own addresses). */
  resolve?: typeof dns.lookup;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
export const DEFAULT_FETCH_MAX_BYTES = 256 * 1024;
const DEFAULT_MAX_REDIRECTS = 3;

/** A fetch that did not produce a document; its message names the URL's origin and why, never a body. */
export class IssuerFetchError extends Error {}

export type JsonFetcher = (url: string) => Promise<unknown>;

/** A `lookup` that resolves every address of the name and refuses the connection if any is not allowed. */
function guardedLookup(allowPrivateNetworks: boolean, resolve: typeof dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return (callback as (e: NodeJS.ErrnoException | null, a: string, f: number) => void)(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      const bad = list.find((a) => !addressAllowed(classifyAddress(a.address), allowPrivateNetworks));
      if (bad || list.length === 0) {
        const e: NodeJS.ErrnoException = new IssuerFetchError(bad ? `${hostname} resolves to ${refusalText(classifyAddress(bad.address))}` : `${hostname} has no address`);
        e.code = 'ECERTUSORDOADDRESS';
        return (callback as (e: NodeJS.ErrnoException | null, a: string, f: number) => void)(e, '', 0);
      }
      if (options.all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      (callback as (e: null, a: string, f: number) => void)(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** Checks a URL before connecting: https, no user info, an allowed host as written. */
function checkUrl(raw: string, allowPrivateNetworks: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new IssuerFetchError('not a URL');
  }
  if (url.protocol !== 'https:') throw new IssuerFetchError(`${url.origin}: not https`);
  if (url.username || url.password) throw new IssuerFetchError(`${url.origin}: user info in the URL`);
  const c = classifyHost(url.hostname);
  if (!addressAllowed(c, allowPrivateNetworks)) throw new IssuerFetchError(`${url.origin}: ${refusalText(c)}`);
  return url;
}

/** A fetcher of JSON documents under `policy`. */
export function jsonFetcher(policy: FetchPolicy): JsonFetcher {
  const agent = new https.Agent({ lookup: guardedLookup(policy.allowPrivateNetworks, policy.resolve ?? dns.lookup), ca: policy.ca, keepAlive: false, maxSockets: 16 });
  const timeoutMs = policy.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const maxBytes = policy.maxBytes ?? DEFAULT_FETCH_MAX_BYTES;
  const maxRedirects = policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS;

  const once = (url: URL): Promise<{ redirect: string } | { body: unknown }> =>
    new Promise((resolve, reject) => {
      // An IP literal never goes through `lookup`: checkUrl checked it as written.
      const req = https.request(url, { agent, method: 'GET', headers: { accept: 'application/json, application/jwk-set+json' } });
      const timer = setTimeout(() => req.destroy(new IssuerFetchError(`${url.origin}: no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      const done = (f: () => void) => {
        clearTimeout(timer);
        f();
      };
      req.on('error', (err) => done(() => reject(err instanceof IssuerFetchError ? err : new IssuerFetchError(`${url.origin}: ${(err as NodeJS.ErrnoException).code ?? err.message}`))));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          return done(() => resolve({ redirect: new URL(res.headers.location!, url).toString() }));
        }
        if (status !== 200) {
          res.resume();
          return done(() => reject(new IssuerFetchError(`${url.origin}: HTTP ${status}`)));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) req.destroy(new IssuerFetchError(`${url.origin}: document larger than ${maxBytes} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          try {
            const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            done(() => resolve({ body }));
          } catch {
            done(() => reject(new IssuerFetchError(`${url.origin}: not JSON`)));
          }
        });
        res.on('error', (err) => done(() => reject(err instanceof IssuerFetchError ? err : new IssuerFetchError(`${url.origin}: ${err.message}`))));
      });
      req.end();
    });

  return async (raw: string) => {
    let url = checkUrl(raw, policy.allowPrivateNetworks);
    for (let hops = 0; ; hops++) {
      const r = await once(url);
      if ('body' in r) return r.body;
      if (hops >= maxRedirects) throw new IssuerFetchError(`${url.origin}: more than ${maxRedirects} redirects`);
      url = checkUrl(r.redirect, policy.allowPrivateNetworks);
    }
  };
}
