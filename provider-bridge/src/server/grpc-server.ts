/**
 * The gRPC server Terraform talks to: gRPC over node:http2, only as much of it as go-plugin uses.
 * Terraform's plugin client sends unary calls (and opens StreamStdio, which we end at once), never
 * compresses, and reads the status from the trailers.
 *
 * Why not grpc-js: Terraform starts the provider several times per plan and makes a call per
 * resource and step, so a general gRPC library costs twice: loading it (its client half,
 * channelz, resolvers and load balancers come along with the server) on every launch, and its
 * per-call machinery (interceptor chain, metadata objects, channelz accounting, a promise per
 * message for decompression) on every call. The messages and their codecs are the same
 * (protos.ts); what a Go gRPC client sees on the wire is the same: `application/grpc` responses,
 * length-prefixed messages, `grpc-status`/`grpc-message` trailers.
 */
import * as http2 from 'node:http2';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/** gRPC status codes used here (grpc/doc/statuscodes.md). */
export const Status = { OK: 0, INTERNAL: 13, UNIMPLEMENTED: 12, RESOURCE_EXHAUSTED: 8 } as const;

/**
 * A unary handler: the decoded request in, the response object out. It must not throw (service.ts
 * turns failures into diagnostics). `never`: a handler typed by its own request message fits; the
 * method's deserializer (protos.ts) is what makes the request that message.
 */
export type UnaryHandler = (request: never) => Promise<object>;

/** A server-streaming method we answer with no messages and status OK (go-plugin's StreamStdio). */
export const EMPTY_STREAM = Symbol('empty stream');

export type MethodHandler = UnaryHandler | typeof EMPTY_STREAM;

export interface TlsOptions {
  certPem: string;
  keyPem: string;
  /** The only certificate a client may present (go-plugin's AutoMTLS client certificate). */
  clientCaPem: string;
}

export interface GrpcServerOptions {
  /** null: plaintext (reattach mode, TF_DISABLE_PLUGIN_TLS). */
  tls: TlsOptions | null;
  /** Largest request message accepted, in bytes. */
  maxMessageBytes: number;
}

interface Method {
  definition: MethodDefinition<object, object>;
  handler: MethodHandler;
}

/** 1 flag byte (compressed or not) + 4 bytes big-endian length, then the message. */
const FRAME_HEADER_BYTES = 5;

function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/**
 * grpc-message as the gRPC over HTTP/2 spec has it: UTF-8, with every byte outside printable ASCII
 * (0x20-0x7E), and '%' itself, percent-encoded; everything else as is (clients decode only that).
 */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const RESPONSE_HEADERS: http2.OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc+proto' };

export class GrpcServer {
  readonly #methods = new Map<string, Method>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  readonly #server: http2.Http2Server | http2.Http2SecureServer;
  readonly #maxMessageBytes: number;

  constructor(opts: GrpcServerOptions) {
    this.#maxMessageBytes = opts.maxMessageBytes;
    // As grpc-js set them: no header-size or session-memory limit of node's to trip over with a
    // large schema or state, and no idle timeout (Terraform keeps the connection for the walk).
    const common: http2.ServerOptions = { maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER, maxSessionMemory: Number.MAX_SAFE_INTEGER };
    this.#server = opts.tls
      ? http2.createSecureServer({
          ...common,
          cert: opts.tls.certPem,
          key: opts.tls.keyPem,
          ca: opts.tls.clientCaPem,
          requestCert: true,
          rejectUnauthorized: true,
        })
      : http2.createServer(common);
    this.#server.setTimeout(0);
    // A TLS socket's errors must be handled by the server's user (nodejs/node#35824); the session's close follows.
    this.#server.on('secureConnection', (socket: import('node:tls').TLSSocket) => socket.on('error', () => {}));
    this.#server.on('session', (session: http2.ServerHttp2Session) => {
      this.#sessions.add(session);
      session.on('error', () => {});
      session.once('close', () => this.#sessions.delete(session));
    });
    this.#server.on('stream', (stream, headers) => this.#onStream(stream, headers));
  }

  /** Registers every method of `service`; each must have a handler. */
  addService(service: ServiceDefinition, handlers: Record<string, MethodHandler>): void {
    for (const [name, definition] of Object.entries(service)) {
      const handler = handlers[name];
      if (handler === undefined) throw new Error(`no handler for ${definition.path}`);
      if (definition.requestStream || (definition.responseStream && handler !== EMPTY_STREAM)) {
        throw new Error(`${definition.path}: only unary methods and empty server streams are supported`);
      }
      this.#methods.set(definition.path, { definition: definition as MethodDefinition<object, object>, handler });
    }
  }

  /** Listens on a unix socket. */
  listen(socketPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(socketPath, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
  }

  /** Stops listening and drops every connection. */
  forceShutdown(): void {
    this.#server.close();
    for (const s of this.#sessions) s.destroy();
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    // An error is followed by close; there is nobody left to answer.
    stream.on('error', () => {});
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const path = String(headers[':path']);
    const method = this.#methods.get(path);
    if (!method) {
      this.#fail(stream, Status.UNIMPLEMENTED, `The server does not implement the method ${path}`);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    stream.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > this.#maxMessageBytes + FRAME_HEADER_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        this.#fail(stream, Status.RESOURCE_EXHAUSTED, `Received message larger than max (${size} vs. ${this.#maxMessageBytes})`);
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => {
      if (!tooLarge) this.#call(stream, method, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  }

  #call(stream: http2.ServerHttp2Stream, method: Method, body: Buffer): void {
    if (body.length < FRAME_HEADER_BYTES || body.readUInt32BE(1) !== body.length - FRAME_HEADER_BYTES) {
      this.#fail(stream, Status.INTERNAL, 'Expected exactly one length-prefixed request message');
      return;
    }
    if (body[0] !== 0) {
      this.#fail(stream, Status.UNIMPLEMENTED, 'Compressed messages are not supported');
      return;
    }
    let request: object;
    try {
      request = method.definition.requestDeserialize(body.subarray(FRAME_HEADER_BYTES));
    } catch (err) {
      this.#fail(stream, Status.INTERNAL, `Error deserializing request: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (method.handler === EMPTY_STREAM) {
      this.#reply(stream, null);
      return;
    }
    (method.handler as (request: object) => Promise<object>)(request)
      .then((response) => {
        let message: Buffer;
        try {
          message = method.definition.responseSerialize(response);
        } catch (err) {
          this.#fail(stream, Status.INTERNAL, `Error serializing response: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        this.#reply(stream, message);
      })
      // Handlers do not throw; this is the stream failing under us: drop it rather than the process.
      .catch(() => stream.destroy());
  }

  /** Headers, the message (if any), then status OK in the trailers. */
  #reply(stream: http2.ServerHttp2Stream, message: Buffer | null): void {
    if (stream.destroyed || stream.closed) return; // the client cancelled the call
    stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(Status.OK), 'grpc-message': '' }));
    if (message) stream.end(frame(message));
    else stream.end();
  }

  /** A trailers-only response: the status in the one header block. */
  #fail(stream: http2.ServerHttp2Stream, status: number, text: string): void {
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    stream.respond({ ...RESPONSE_HEADERS, 'grpc-status': String(status), 'grpc-message': encodeGrpcMessage(text) }, { endStream: true });
  }
}
