/**
 * A workload token issuer the tests run themselves, as GitHub Actions, a Kubernetes cluster or a
 * SPIRE server would be: HTTPS on loopback with a certificate of a test CA generated for the run
 * (by the machine's `openssl`), an OpenID discovery document, a JWKS, keys that can be rotated,
 * and a count of every request it answers.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';

export interface TestCa {
  /** PEM of the CA certificate: what the control plane is told to trust. */
  ca: string;
  /** The server certificate (SAN IP:127.0.0.1, DNS:localhost, DNS:issuer.test) and its key. */
  cert: string;
  key: string;
}

/** A CA and a loopback server certificate signed by it, made with `openssl` in a temporary folder. */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'certusordo-ca-'));
  const at = (f: string) => path.join(dir, f);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    ossl('req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=certusordo test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    ossl('req', ...ec, '-keyout', at('srv.key'), '-out', at('srv.csr'), '-subj', '/CN=localhost');
    writeFileSync(at('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:issuer.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    ossl('x509', '-req', '-in', at('srv.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('srv.pem'), '-days', '2', '-extfile', at('ext.cnf'));
    return { ca: readFileSync(at('ca.pem'), 'utf8'), cert: readFileSync(at('srv.pem'), 'utf8'), key: readFileSync(at('srv.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type TestAlg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

export interface IssuerKey {
  kid: string;
  alg: TestAlg;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public JWK as the issuer publishes it. */
  jwk: Record<string, unknown>;
}

export function makeKey(alg: TestAlg, kid: string = randomUUID()): IssuerKey {
  const pair =
    alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA' ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

export interface SignOptions {
  /** Header fields to change (alg, kid, typ). */
  header?: Record<string, unknown>;
  /** Omit these registered claims. */
  omit?: ReadonlyArray<'exp' | 'iat' | 'jti' | 'aud' | 'sub'>;
}

/** A signed platform token (jose, as the platforms' own libraries would make it). */
export async function signToken(key: IssuerKey, claims: Record<string, unknown>, o: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { iat: now, exp: now + 300, jti: randomUUID(), ...claims };
  for (const c of o.omit ?? []) delete payload[c];
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...o.header } as { alg: string }).sign(key.privateKey);
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** `alg: none`: an unsigned token. */
export function unsignedToken(claims: Record<string, unknown>, kid?: string): string {
  return `${b64({ alg: 'none', typ: 'JWT', ...(kid ? { kid } : {}) })}.${b64(claims)}.`;
}

/** HS256 with the issuer's public key (PEM) as the HMAC secret: the classic algorithm-confusion forgery. */
export function hmacWithPublicKey(key: IssuerKey, claims: Record<string, unknown>): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64(claims)}`;
  const secret = key.publicKey.export({ format: 'pem', type: 'spki' });
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export class TestIssuer {
  /** Every request path answered, in order. */
  readonly requests: string[] = [];
  keys: IssuerKey[] = [];
  /** While true, the discovery document answers 503: an issuer whose endpoints are down. */
  failing = false;

  private constructor(private readonly server: https.Server, readonly url: string) {}

  static async start(tls: TestCa, keys: IssuerKey[]): Promise<TestIssuer> {
    let issuer: TestIssuer | undefined;
    const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      const i = issuer!;
      i.requests.push(req.url ?? '');
      const send = (body: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (i.failing) return res.writeHead(503).end();
      if (req.url === '/.well-known/openid-configuration') return send({ issuer: i.url, jwks_uri: `${i.url}/keys`, id_token_signing_alg_values_supported: ['RS256'] });
      if (req.url === '/keys') return send({ keys: i.keys.map((k) => k.jwk) });
      // Test routes of the fetcher's rules: a redirect anywhere, and a document over any size limit.
      if (req.url?.startsWith('/redirect?to=')) {
        res.writeHead(302, { location: decodeURIComponent(req.url.slice('/redirect?to='.length)) });
        return res.end();
      }
      if (req.url === '/big') return send({ filler: 'x'.repeat(512 * 1024) });
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = new TestIssuer(server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`);
    issuer.keys = keys;
    return issuer;
  }

  /** Fetches of the discovery document and of the JWKS so far. */
  get fetches(): number {
    return this.requests.length;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A host that accepts connections and never answers, until `release()` drops them: an issuer that is down. */
export class SilentHost {
  private readonly sockets = new Set<net.Socket>();
  /** Connections accepted so far. */
  connections = 0;
  private connected: Array<() => void> = [];

  private constructor(private readonly server: net.Server, readonly url: string) {}

  static async start(): Promise<SilentHost> {
    let host: SilentHost | undefined;
    const server = net.createServer((s) => {
      host!.sockets.add(s);
      host!.connections++;
      s.on('error', () => undefined);
      for (const f of host!.connected.splice(0)) f();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = new SilentHost(server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return host;
  }

  /** Resolves once a connection is held. */
  whenConnected(): Promise<void> {
    return this.connections > 0 ? Promise.resolve() : new Promise((resolve) => this.connected.push(resolve));
  }

  release(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  close(): Promise<void> {
    this.release();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
