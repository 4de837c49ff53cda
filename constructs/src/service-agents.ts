/**
 * ServiceAgents: the "Managing Agents" best practices as one construct. One agent per service per
 * environment, named `<service>-<environment>` (never a shared agent), scopes narrowed per
 * environment (read-only in dev, for instance), and the same metadata on every agent
 * (`team`, `environment`, `version`, `service`).
 *
 *   new ServiceAgents(stack, 'Agents', {
 *     team: 'billing', version: '1.4.0',
 *     environments: [{ name: 'dev', access: 'read-only' }, 'staging', 'prod'],
 *     services: [{ name: 'invoice-processor', scopes: ['invoices:read', 'invoices:write'] }],
 *   });
 */
import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { metadataViolations, nameViolations, normalizeScopes, scopesViolations } from '../../model/agent';
import { CertusOrdoAgent, credentialViolations, type FederatedCredentialProps, type ManagedAgentStatus } from './agent';
import { ValidationError } from './errors';

/** `full`: the service's scopes. `read-only`: only its `read` scopes (`x:*` becomes `x:read`). */
export type EnvironmentAccess = 'full' | 'read-only';

export interface EnvironmentDefinition {
  /** Environment name, used as the agent name suffix and the `environment` metadata value. */
  readonly name: string;
  /** @default 'full' */
  readonly access?: EnvironmentAccess;
}

export interface ServiceDefinition {
  /** Service name; its agents are named `<name>-<environment>`. */
  readonly name: string;
  /** What the service may do where access is `full`: `resource:action` scopes. */
  readonly scopes: readonly string[];
  /**
   * Exact scopes for some environments, replacing the ones derived from `scopes` and the
   * environment's `access`.
   * @default - derived for every environment
   */
  readonly scopesByEnvironment?: Readonly<Record<string, readonly string[]>>;
  /** Extra metadata for this service's agents (the shared keys win). @default {} */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Status enforced for this service's agents. @default - not managed (runtime suspensions survive deploys) */
  readonly status?: ManagedAgentStatus;
  /**
   * The workloads that run this service, per environment: the agent of an environment listed here
   * is secretless (its workloads authenticate with their platform tokens; no key or secret exists),
   * for example `{ prod: [{ issuer: 'https://token.actions.githubusercontent.com', subject:
   * 'repo:acme/billing:environment:prod' }] }`. Each environment has its own workloads, so nothing
   * is shared between environments.
   * @default - none: every agent of the service has a generated key
   */
  readonly federatedCredentialsByEnvironment?: Readonly<Record<string, readonly FederatedCredentialProps[]>>;
}

export interface ServiceAgentsProps {
  /** The services; each gets one agent per environment. */
  readonly services: readonly ServiceDefinition[];
  /** The environments, by name or with their access level. */
  readonly environments: readonly (string | EnvironmentDefinition)[];
  /** Owning team, recorded as `team` metadata on every agent. */
  readonly team: string;
  /** Release or configuration version, recorded as `version` metadata. @default - not recorded */
  readonly version?: string;
  /** Metadata added to every agent (the shared keys `team`, `environment`, `version`, `service` win). @default {} */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Rotation trigger for every agent: change it to rotate all their keys. @default - none */
  readonly rotationTrigger?: Readonly<Record<string, string>>;
}

/** Keeps the `read` scopes; a wildcard `resource:*` is narrowed to `resource:read`. */
export function readOnlyScopes(scopes: readonly string[]): string[] {
  const out: string[] = [];
  for (const scope of scopes) {
    const [resource, action] = scope.split(':');
    if (action === undefined) {
      if (resource === 'read' || resource === '*') out.push('read');
    } else if (action === 'read' || action === '*') {
      out.push(`${resource}:read`);
    }
  }
  return normalizeScopes(out);
}

export class ServiceAgents extends Construct {
  /** Every agent, services in order, then environments in order. */
  public readonly agents: readonly CertusOrdoAgent[];
  private readonly byKey = new Map<string, CertusOrdoAgent>();
  private readonly environmentNames: readonly string[];

  constructor(scope: Construct, id: string, props: ServiceAgentsProps) {
    super(scope, id);
    const environments = props.environments.map((e) => (typeof e === 'string' ? { name: e } : e));
    this.environmentNames = environments.map((e) => e.name);

    const plan: Array<{ service: ServiceDefinition; env: EnvironmentDefinition; name: string; scopes: string[]; metadata: Record<string, string> }> = [];
    const violations = shapeViolations(props, environments);
    for (const service of props.services) {
      for (const env of environments) {
        const name = `${service.name}-${env.name}`;
        const scopes = [...(service.scopesByEnvironment?.[env.name] ?? (env.access === 'read-only' ? readOnlyScopes(service.scopes) : service.scopes))];
        const metadata: Record<string, string> = {
          ...props.metadata,
          ...service.metadata,
          team: props.team,
          environment: env.name,
          service: service.name,
          ...(props.version === undefined ? {} : { version: props.version }),
        };
        const where = `agent "${name}"`;
        if (!Token.isUnresolved(name)) violations.push(...nameViolations(name).map((v) => `${where}: ${v}`));
        violations.push(...scopesViolations(scopes.filter((s) => !Token.isUnresolved(s))).map((v) => `${where}: ${v}`));
        violations.push(...metadataViolations(metadata).map((v) => `${where}: ${v}`));
        violations.push(...credentialViolations(service.federatedCredentialsByEnvironment?.[env.name] ?? []).map((v) => `${where}: ${v}`));
        plan.push({ service, env, name, scopes, metadata });
      }
    }
    if (violations.length) throw new ValidationError('Invalid ServiceAgents props', [...new Set(violations)], this);

    this.agents = plan.map(({ service, env, name, scopes, metadata }) => {
      const agent = new CertusOrdoAgent(this, name, {
        name,
        scopes,
        metadata,
        status: service.status,
        rotationTrigger: props.rotationTrigger,
        federatedCredentials: service.federatedCredentialsByEnvironment?.[env.name],
      });
      this.byKey.set(key(service.name, env.name), agent);
      return agent;
    });
  }

  /** The agent of `service` in `environment`; throws for an unknown pair. */
  public agent(service: string, environment: string): CertusOrdoAgent {
    const agent = this.byKey.get(key(service, environment));
    if (!agent) {
      throw new ValidationError('Unknown service agent', [`no agent for service "${service}" in environment "${environment}"`], this);
    }
    return agent;
  }

  /** The agents of one environment, in service order. */
  public forEnvironment(environment: string): CertusOrdoAgent[] {
    if (!this.environmentNames.includes(environment)) {
      throw new ValidationError('Unknown environment', [`"${environment}" is not one of ${this.environmentNames.map((e) => `"${e}"`).join(', ')}`], this);
    }
    return this.agents.filter((a) => a.environment === environment);
  }
}

function key(service: string, environment: string): string {
  return JSON.stringify([service, environment]);
}

function shapeViolations(props: ServiceAgentsProps, environments: readonly EnvironmentDefinition[]): string[] {
  const out: string[] = [];
  if (props.services.length === 0) out.push('services must list at least one service');
  if (environments.length === 0) out.push('environments must list at least one environment');
  const dup = (names: string[]) => [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  for (const d of dup(props.services.map((s) => s.name))) out.push(`service "${d}" is listed more than once (one agent per service per environment)`);
  for (const d of dup(environments.map((e) => e.name))) out.push(`environment "${d}" is listed more than once`);
  for (const e of environments) {
    if (e.access !== undefined && e.access !== 'full' && e.access !== 'read-only') out.push(`environment "${e.name}": access must be "full" or "read-only"`);
  }
  const envNames = new Set(environments.map((e) => e.name));
  for (const s of props.services) {
    for (const env of Object.keys(s.scopesByEnvironment ?? {})) {
      if (!envNames.has(env)) out.push(`service "${s.name}": scopesByEnvironment names unknown environment "${env}"`);
    }
    for (const env of Object.keys(s.federatedCredentialsByEnvironment ?? {})) {
      if (!envNames.has(env)) out.push(`service "${s.name}": federatedCredentialsByEnvironment names unknown environment "${env}"`);
    }
  }
  return out;
}
