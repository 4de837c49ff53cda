/**
 * Contracts between the RPC layer (server/) and the resource and data-source modules.
 * Definitions are plain objects checked with `satisfies`, mirroring the framework's
 * Resource / ResourceWithImportState interfaces.
 */
import type { TfObject, TfValue } from '../codec/values';
import type { Diagnostic, PathStep } from '../diag';
import type { RestClient } from '../client/rest-client';
import type { Logger } from '../log';
import type { SchemaDef } from '../schema/types';

/** Built by ConfigureProvider; handed to every CRUD call. */
export interface ProviderData {
  readonly client: RestClient;
  readonly logger: Logger;
}

export interface StateResult {
  /** Null means "gone" (read) or "deleted" (delete). */
  state: TfObject | null;
  diagnostics: Diagnostic[];
  private?: Buffer;
}

export interface PlanRequest {
  prior: TfObject | null;
  proposed: TfObject;
  config: TfObject;
}

export interface PlanAdjustment {
  planned: Record<string, TfValue>;
  requiresReplace: PathStep[][];
  diagnostics: Diagnostic[];
}

export interface ResourceDefinition {
  readonly typeName: string;
  readonly schema: SchemaDef;
  /** Offline checks on a configuration that may contain unknowns. */
  validate(config: TfObject): Diagnostic[];
  /** Resource-specific plan rules, run after the generic planner. */
  modifyPlan(req: PlanRequest, result: PlanAdjustment): PlanAdjustment;
  create(p: ProviderData, planned: TfObject): Promise<StateResult>;
  read(p: ProviderData, state: TfObject, priv: Buffer): Promise<StateResult>;
  update(p: ProviderData, prior: TfObject, planned: TfObject): Promise<StateResult>;
  delete(p: ProviderData, prior: TfObject): Promise<StateResult>;
  /** Builds the stub that Terraform then passes to read(). */
  importState(p: ProviderData, id: string): Promise<StateResult>;
}

export interface DataSourceDefinition {
  readonly typeName: string;
  readonly schema: SchemaDef;
  validate(config: TfObject): Diagnostic[];
  read(p: ProviderData, config: TfObject): Promise<StateResult>;
}

export interface EphemeralOpenResult {
  /** Null only together with an error diagnostic. */
  result: TfObject | null;
  diagnostics: Diagnostic[];
  /** Handed back to close(); Terraform keeps it in memory only. */
  private?: Buffer;
}

/** An ephemeral resource (Terraform >= 1.10): opened per plan/apply, never written to plan or state. */
export interface EphemeralResourceDefinition {
  readonly typeName: string;
  readonly schema: SchemaDef;
  validate(config: TfObject): Diagnostic[];
  open(p: ProviderData, config: TfObject): Promise<EphemeralOpenResult>;
  close(p: ProviderData, priv: Buffer): Promise<Diagnostic[]>;
}
