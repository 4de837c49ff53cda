/**
 * The provider's own gRPC server (provider-bridge/src/server/grpc-server.ts) against an independent
 * gRPC client (grpc-js) and, for what no well-behaved client sends, raw HTTP/2: unary calls and the
 * empty StreamStdio over a unix socket, AutoMTLS that admits only Terraform's client certificate,
 * and a status (never a crash) for an unknown method, a wrong content type, a broken, compressed or
 * oversized message. Terraform itself drives it in acceptance.test.ts and launch.test.ts.
 */
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '../../provider-bridge/src/log';
import { createContext } from '../../provider-bridge/src/server/context';
import { encodeGrpcMessage, GrpcServer, Status, type TlsOptions } from '../../provider-bridge/src/server/grpc-server';
import { loadServices } from '../../provider-bridge/src/server/protos';
import { createServer } from '../../provider-bridge/src/server/service';
import { createServerCertificate } from '../../provider-bridge/src/tls';

const services = loadServices();
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-grpc-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const quietContext = () => createContext(createLogger(() => undefined, 'off'), {});

/** The provider's server on a fresh socket; `shutdowns` counts GRPCController/Shutdown calls. */
async function startProvider(tls: TlsOptions | null): Promise<{ socket: string; server: GrpcServer; shutdowns: { count: number } }> {
  const shutdowns = { count: 0 };
  const server = createServer({ ctx: quietContext(), tls, onShutdown: () => shutdowns.count++ });
  const socket = path.join(dir, 'plugin.sock');
  await server.listen(socket);
  return { socket, server, shutdowns };
}

type Callback = (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void;
type GenericClient = grpc.Client & Record<string, (req: object, cb: Callback) => grpc.ClientUnaryCall>;

function client(service: grpc.ServiceDefinition, socket: string, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): GenericClient {
  const Ctor = grpc.makeGenericClientConstructor(service as grpc.ServiceDefinition<grpc.UntypedServiceImplementation>, 'x');
  return new Ctor(`unix://${socket}`, creds, options) as unknown as GenericClient;
}

function unary(c: GenericClient, method: string, req: object = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => c[method]!(req, (err, res) => (err ? reject(err) : resolve(res!))));
}

test('unary calls and the empty StdIO stream work over the unix socket, and Shutdown is answered before it acts', async () => {
  const { socket, server, shutdowns } = await startProvider(null);
  const provider = client(services.provider, socket);
  const controller = client(services.controller, socket);
  const stdio = client(services.stdio, socket);
  try {
    const metadata = await unary(provider, 'GetMetadata');
    expect((metadata.resources as { type_name: string }[]).map((r) => r.type_name)).toContain('certusordo_agent');
    // Several calls in flight on one connection, as Terraform's walk makes them.
    const many = await Promise.all(Array.from({ length: 20 }, () => unary(provider, 'GetProviderSchema')));
    expect(new Set(many.map((m) => JSON.stringify(m))).size).toBe(1);

    const messages: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = (stdio as unknown as Record<string, (req: object) => grpc.ClientReadableStream<unknown>>).StreamStdio!({});
      stream.on('data', (m) => messages.push(m));
      stream.on('error', reject);
      stream.on('status', (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(s.details))));
    });
    expect(messages).toEqual([]);

    expect(await unary(controller, 'Shutdown')).toEqual({});
    await new Promise((r) => setImmediate(r));
    expect(shutdowns.count).toBe(1);
  } finally {
    for (const c of [provider, controller, stdio]) c.close();
    server.forceShutdown();
  }
});

test('a method the server does not have is UNIMPLEMENTED, and the connection serves on', async () => {
  const { socket, server } = await startProvider(null);
  const unknown: grpc.ServiceDefinition = { Nope: { ...services.provider.GetMetadata!, path: '/tfplugin6.Provider/Nope' } };
  const stranger = client(unknown, socket);
  const provider = client(services.provider, socket);
  try {
    await expect(unary(stranger, 'Nope')).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED, details: expect.stringContaining('/tfplugin6.Provider/Nope') });
    await expect(unary(provider, 'GetMetadata')).resolves.toHaveProperty('resources');
  } finally {
    stranger.close();
    provider.close();
    server.forceShutdown();
  }
});

describe('AutoMTLS', () => {
  let serverCert: Awaited<ReturnType<typeof createServerCertificate>>;
  let terraformCert: Awaited<ReturnType<typeof createServerCertificate>>;
  let otherCert: Awaited<ReturnType<typeof createServerCertificate>>;
  beforeAll(async () => {
    [serverCert, terraformCert, otherCert] = await Promise.all([createServerCertificate(), createServerCertificate(), createServerCertificate()]);
  });
  const asClient = (cert: { certPem: string; keyPem: string } | null) =>
    grpc.credentials.createSsl(Buffer.from(serverCert.certPem), cert ? Buffer.from(cert.keyPem) : null, cert ? Buffer.from(cert.certPem) : null);
  // The server certificate names localhost (go-plugin's); a unix socket has no host name of its own.
  const options = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };

  test("only Terraform's client certificate gets through", async () => {
    const { socket, server } = await startProvider({ certPem: serverCert.certPem, keyPem: serverCert.keyPem, clientCaPem: terraformCert.certPem });
    const terraform = client(services.provider, socket, asClient(terraformCert), options);
    const other = client(services.provider, socket, asClient(otherCert), options);
    const anonymous = client(services.provider, socket, asClient(null), options);
    const plaintext = client(services.provider, socket);
    try {
      await expect(unary(terraform, 'GetMetadata')).resolves.toHaveProperty('resources');
      for (const c of [other, anonymous, plaintext]) await expect(unary(c, 'GetMetadata')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      for (const c of [terraform, other, anonymous, plaintext]) c.close();
      server.forceShutdown();
    }
  });
});

describe('what no well-behaved client sends', () => {
  let server: GrpcServer;
  let session: http2.ClientHttp2Session;
  beforeEach(async () => {
    // A small cap, so that "too large" is cheap to send.
    server = new GrpcServer({ tls: null, maxMessageBytes: 1024 });
    server.addService(services.provider, Object.fromEntries(Object.keys(services.provider).map((k) => [k, async () => ({})])));
    const socket = path.join(dir, 'raw.sock');
    await server.listen(socket);
    session = http2.connect('http://localhost', { createConnection: () => net.connect(socket) });
  });
  afterEach(() => {
    session.close();
    server.forceShutdown();
  });

  /** One raw request; resolves with the response's headers and trailers merged, and its body. */
  function raw(headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<{ head: Record<string, unknown>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/tfplugin6.Provider/GetMetadata', 'content-type': 'application/grpc', te: 'trailers', ...headers });
      const head: Record<string, unknown> = {};
      const chunks: Buffer[] = [];
      req.on('response', (h) => Object.assign(head, h));
      req.on('trailers', (t) => Object.assign(head, t));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ head, body: Buffer.concat(chunks) }));
      req.on('error', reject);
      req.end(body);
    });
  }
  const framed = (message: Buffer, flag = 0): Buffer => {
    const header = Buffer.alloc(5);
    header[0] = flag;
    header.writeUInt32BE(message.length, 1);
    return Buffer.concat([header, message]);
  };

  test('a valid request gets headers, one framed message and status OK in the trailers', async () => {
    const r = await raw({}, framed(Buffer.alloc(0)));
    expect(r.head).toMatchObject({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-status': '0' });
    expect(r.body.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, r.body.length - 5]));
  });

  test.each([
    ['a body shorter than a frame header', Buffer.from([0, 0]), Status.INTERNAL],
    ['a length prefix that does not match the body', Buffer.from([0, 0, 0, 0, 9, 1]), Status.INTERNAL],
    ['two messages in a unary call', Buffer.concat([framed(Buffer.alloc(0)), framed(Buffer.alloc(0))]), Status.INTERNAL],
    ['a compressed message', framed(Buffer.alloc(0), 1), Status.UNIMPLEMENTED],
    ['bytes that are not the request message', framed(Buffer.from([0xff, 0xff, 0xff])), Status.INTERNAL],
    ['a message over the size cap', framed(Buffer.alloc(2048)), Status.RESOURCE_EXHAUSTED],
  ])('%s: a status, no message, and the server serves on', async (_what, body, status) => {
    const r = await raw({}, body);
    expect(r.head).toMatchObject({ ':status': 200, 'grpc-status': String(status) });
    expect(typeof r.head['grpc-message']).toBe('string');
    expect(r.body.length).toBe(0);
    await expect(raw({}, framed(Buffer.alloc(0)))).resolves.toMatchObject({ head: { 'grpc-status': '0' } });
  });

  test('grpc-message is percent-encoded as the spec says: only bytes outside printable ASCII, and %', () => {
    expect(encodeGrpcMessage('/a.B/c 100% ok')).toBe('/a.B/c 100%25 ok');
    expect(encodeGrpcMessage('line\nbreak é')).toBe('line%0Abreak %C3%A9');
  });

  test('a request that is not gRPC gets 415', async () => {
    const r = await raw({ 'content-type': 'application/json' }, Buffer.from('{}'));
    expect(r.head[':status']).toBe(415);
  });
});
