/**
 * gRPC service definitions (path and codecs per method, in grpc-js's ServiceDefinition shape, which
 * grpc-server.ts serves and grpc-js clients in tests can use) built with protobufjs from the project's
 * .proto files.
 *
 * @grpc/proto-loader did the same, but it also encodes a descriptor of every file for reflection
 * (unused here): about 30 ms of the provider's start-up, which Terraform pays four times per
 * apply. Messages convert exactly as proto-loader's options `keepCase, longs: String,
 * enums: String, oneofs: true, defaults: true` did, so handlers see the same plain objects.
 *
 * The single-file bundle (src/bundle.ts) inlines the parsed descriptor as
 * `__TFPLUGIN_DESCRIPTOR__`, so a launch parses no .proto text; from source, the files are read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';

declare const __TFPLUGIN_DESCRIPTOR__: protobuf.INamespace | undefined;

export const PROTO_FILES = ['tfplugin6.proto', 'grpc_controller.proto'] as const;

/**
 * How decoded requests (and responses) become plain objects. tfplugin6.gen.ts describes exactly
 * these objects; src/proto-gen/generate.ts refuses to run when the options change under it.
 */
export const TO_OBJECT: Readonly<protobuf.IConversionOptions> = { longs: String, enums: String, oneofs: true, defaults: true };

/** The proto directory from source (provider-bridge/src/server) or from dist (dist/provider-bridge/src/server). */
export function protoDir(): string {
  const candidates = [path.resolve(__dirname, '../../proto'), path.resolve(__dirname, '../../../../provider-bridge/proto')];
  const found = candidates.find((d) => fs.existsSync(path.join(d, PROTO_FILES[0])));
  if (!found) throw new Error(`${PROTO_FILES[0]} not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** Parses the .proto files (field names kept as written, like proto-loader's keepCase). */
export function parseProtos(dir: string = protoDir()): protobuf.Root {
  const root = new protobuf.Root();
  root.loadSync(PROTO_FILES.map((f) => path.join(dir, f)), { keepCase: true }).resolveAll();
  return root;
}

function loadRoot(): protobuf.Root {
  if (typeof __TFPLUGIN_DESCRIPTOR__ !== 'undefined') return protobuf.Root.fromJSON(__TFPLUGIN_DESCRIPTOR__);
  return parseProtos();
}

/** Plain objects in and out: tfplugin6.gen.ts gives them their types where handlers are bound (service.ts). */
function codec(type: protobuf.Type): { serialize: (o: object) => Buffer; deserialize: (b: Buffer) => object } {
  return {
    serialize: (o) => {
      const bytes = type.encode(type.fromObject(o)).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    deserialize: (b) => type.toObject(type.decode(b), TO_OBJECT),
  };
}

/** grpc-js ServiceDefinition for a fully qualified service name, e.g. `tfplugin6.Provider`. */
function serviceDefinition(root: protobuf.Root, fullName: string): grpc.ServiceDefinition {
  const service = root.lookupService(fullName);
  const def: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = codec(method.resolvedRequestType!);
    const res = codec(method.resolvedResponseType!);
    def[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: req.serialize,
      requestDeserialize: req.deserialize,
      responseSerialize: res.serialize,
      responseDeserialize: res.deserialize,
      originalName: method.name,
    };
  }
  return def;
}

export interface PluginServices {
  provider: grpc.ServiceDefinition;
  controller: grpc.ServiceDefinition;
  stdio: grpc.ServiceDefinition;
}

export function loadServices(): PluginServices {
  const root = loadRoot();
  return {
    provider: serviceDefinition(root, 'tfplugin6.Provider'),
    controller: serviceDefinition(root, 'plugin.GRPCController'),
    stdio: serviceDefinition(root, 'plugin.GRPCStdio'),
  };
}
