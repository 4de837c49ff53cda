/**
 * The ephemeral resource RPCs (Terraform >= 1.10): Validate, Open, Renew, Close. Results go to
 * Terraform's memory only; core never writes them to plan or state.
 */
import { decodeDynamicValue, encodeDynamicValue, type DynamicValueMsg } from '../codec/msgpack';
import type { TfObject } from '../codec/values';
import { toWire } from '../diag';
import { impliedType } from '../schema/types';
import { findEphemeralResource, notConfigured, unknownType, type ServerContext } from './context';

export function validateEphemeralResourceConfig(req: { type_name: string; config: DynamicValueMsg | null }): Record<string, unknown> {
  const e = findEphemeralResource(req.type_name);
  if (!e) return { diagnostics: toWire([unknownType('ephemeral resource', req.type_name)]) };
  const config = (decodeDynamicValue(impliedType(e.schema.block), req.config) ?? {}) as TfObject;
  return { diagnostics: toWire(e.validate(config)) };
}

export async function openEphemeralResource(
  ctx: ServerContext,
  req: { type_name: string; config: DynamicValueMsg | null },
): Promise<Record<string, unknown>> {
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
export function renewEphemeralResource(req: { type_name: string; private?: Buffer }): Record<string, unknown> {
  return { diagnostics: [], ...(req.private ? { private: req.private } : {}) };
}

export async function closeEphemeralResource(ctx: ServerContext, req: { type_name: string; private?: Buffer }): Promise<Record<string, unknown>> {
  const e = findEphemeralResource(req.type_name);
  if (!e) return { diagnostics: toWire([unknownType('ephemeral resource', req.type_name)]) };
  if (!ctx.providerData) return { diagnostics: [] };
  return { diagnostics: toWire(await e.close(ctx.providerData, req.private ?? Buffer.alloc(0))) };
}
