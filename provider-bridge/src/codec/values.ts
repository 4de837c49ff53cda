/**
 * In-memory form of Terraform values. The codec converts wire values to this form,
 * guided by the schema type, so the rest of the provider never sees msgpack details.
 */
import type { TfType } from '../schema/types';

/** A value Terraform does not know yet ("known after apply"). */
export class UnknownValue {
  private readonly brand = 'unknown';
  toString(): string {
    return `<${this.brand}>`;
  }
}
export const UNKNOWN = new UnknownValue();

/**
 * Numbers are JS numbers when exactly representable, otherwise the exact decimal text
 * (cty numbers are arbitrary precision; see the codec).
 */
export type TfNumber = number | string;

export type TfValue =
  | null
  | UnknownValue
  | string
  | TfNumber
  | boolean
  | readonly TfValue[]
  | { readonly [key: string]: TfValue };

export type TfObject = { readonly [key: string]: TfValue };

export function isUnknown(v: TfValue | undefined): v is UnknownValue {
  return v instanceof UnknownValue;
}

/** True when no unknown is anywhere inside (apply/read results must be wholly known). */
export function isWhollyKnown(v: TfValue | undefined): boolean {
  if (v === undefined || v === null) return true;
  if (isUnknown(v)) return false;
  if (Array.isArray(v)) return v.every(isWhollyKnown);
  if (typeof v === 'object') return Object.values(v as TfObject).every(isWhollyKnown);
  return true;
}

/** Type-aware equality: sets compare without order, unknown equals nothing. */
export function valuesEqual(type: TfType, a: TfValue | undefined, b: TfValue | undefined): boolean {
  const x = a ?? null;
  const y = b ?? null;
  if (isUnknown(x) || isUnknown(y)) return false;
  if (x === null || y === null) return x === y;
  if (typeof type === 'string') {
    if (type === 'number') return String(x) === String(y);
    return x === y;
  }
  const kind = type[0];
  if (kind === 'list' || kind === 'set') {
    const xs = x as readonly TfValue[];
    const ys = y as readonly TfValue[];
    if (xs.length !== ys.length) return false;
    if (kind === 'list') return xs.every((e, i) => valuesEqual(type[1], e, ys[i]));
    return xs.every((e) => ys.some((f) => valuesEqual(type[1], e, f)));
  }
  const xo = x as TfObject;
  const yo = y as TfObject;
  if (kind === 'map') {
    const keys = Object.keys(xo);
    if (keys.length !== Object.keys(yo).length) return false;
    return keys.every((k) => k in yo && valuesEqual(type[1], xo[k], yo[k]));
  }
  return Object.entries(type[1]).every(([k, t]) => valuesEqual(t, xo[k], yo[k]));
}

/** Narrowing helpers for reading decoded objects. */
export function asString(v: TfValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

export function asStringList(v: TfValue | undefined): string[] | null {
  return Array.isArray(v) && v.every((e) => typeof e === 'string') ? (v as string[]) : null;
}

export function asStringMap(v: TfValue | undefined): Record<string, string> | null {
  if (v === null || v === undefined || isUnknown(v) || Array.isArray(v) || typeof v !== 'object') return null;
  const entries = Object.entries(v as TfObject);
  return entries.every(([, e]) => typeof e === 'string') ? (Object.fromEntries(entries) as Record<string, string>) : null;
}
