/**
 * The ephemeral resource RPCs (Terraform >= 1.10): Validate, Open, Renew, Close. Results go to
 * Terraform's memory only; core never writes them to plan or state.
 */
import { decodeDynamicValue, encodeDynamicValue } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { impliedType } from '../schema/types';
import { asBuffer, findEphemeralResource, notConfigured, unknownType, type Received, type ServerContext } from './context';
import type {
  CloseEphemeralResource_Request,
  CloseEphemeralResource_ResponseInit,
  OpenEphemeralResource_Request,
  OpenEphemeralResource_ResponseInit,
  RenewEphemeralResource_Request,
  RenewEphemeralResource_ResponseInit,
  ValidateEphemeralResourceConfig_Request,
  ValidateEphemeralResourceConfig_ResponseInit,
} from './tfplugin6.gen';

export function validateEphemeralResourceConfig(req: Received<ValidateEphemeralResourceConfig_Request>): ValidateEphemeralResourceConfig_ResponseInit {
  const e = findEphemeralResource(req.type_name);
  if (!e) return { diagnostics: toWire([unknownType('ephemeral resource', req.type_name)]) };
  const config = (decodeDynamicValue(impliedType(e.schema.block), req.config) ?? {}) as TfObject;
  return { diagnostics: toWire(e.validate(config)) };
}

export async function openEphemeralResource(ctx: ServerContext, req: Received<OpenEphemeralResource_Request>): Promise<OpenEphemeralResource_ResponseInit> {
  const e = findEphemeralResource(req.type_name);
  if (!e) return { diagnostics: toWire([unknownType('ephemeral resource', req.type_name)]) };
  if (!ctx.providerData) return { diagnostics: toWire([notConfigured()]) };
  const type = impliedType(e.schema.block);
  const config = (decodeDynamicValue(type, req.config) ?? {}) as TfObject;
  const res = await e.open(ctx.providerData, config);
  if (res.result === null) return { diagnostics: toWire(res.diagnostics) };
  // No renew_at: a token's value cannot change on renewal, so there is nothing to renew.
  return {
    result: encodeDynamicValue(type, res.result),
    diagnostics: toWire(res.diagnostics),
    ...(res.private ? { private: res.private } : {}),
  };
}

/** Only called when Open set renew_at, which this provider never does. */
export function renewEphemeralResource(req: RenewEphemeralResource_Request): RenewEphemeralResource_ResponseInit {
  return { diagnostics: [], ...(req.private ? { private: req.private } : {}) };
}

export async function closeEphemeralResource(ctx: ServerContext, req: CloseEphemeralResource_Request): Promise<CloseEphemeralResource_ResponseInit> {
  const e = findEphemeralResource(req.type_name);
  if (!e) return { diagnostics: toWire([unknownType('ephemeral resource', req.type_name)]) };
  if (!ctx.providerData) return { diagnostics: [] };
  return { diagnostics: toWire(await e.close(ctx.providerData, asBuffer(req.private ?? Buffer.alloc(0)))) };
}
