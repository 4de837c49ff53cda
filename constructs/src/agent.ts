/**
 * CertusOrdoAgent: the curated (L2) construct for one agent identity. It wraps exactly one
 * generated `certusordo_agent` resource (child id `Resource`), validates its props with the shared
 * model rules (model/agent.ts, the same ones the API enforces) and lists every violation at once.
 */
import { Construct, type IConstruct } from 'constructs';
import { Lazy, TerraformOutput, TerraformStack, Token } from 'cdktf';
import { Agent, type AgentFederatedCredential } from '../.gen/providers/certusordo/agent';
import { AgentDelegation } from '../.gen/providers/certusordo/agent-delegation';
import { DataCertusordoAgent } from '../.gen/providers/certusordo/data-certusordo-agent';
import { metadataViolations, nameViolations, normalizeScopes, publicKeyViolations, scopesViolations, scopeViolations } from '../../model/agent';
import { managedAgentStatusViolation, MANAGED_AGENT_STATUSES, type ManagedAgentStatus } from '../../model/statuses';
import { canonicalJson, claimsViolations, FEDERATED_CREDENTIALS_MAX, issuerSyntax, privateJwkMembers, subjectViolations } from '../../model/federation';
import { ValidationError } from './errors';

/** The statuses Terraform can enforce (model/statuses.ts). Revoking is permanent: destroy the resource instead. */
export { MANAGED_AGENT_STATUSES, type ManagedAgentStatus };

/** The read surface shared by agents defined here and agents imported by id. */
export interface IAgent extends IConstruct {
  /** The agent id (UUID) assigned by the control plane; a token until apply. */
  readonly agentId: string;
  /** The agent's Ed25519 public key, base64url of the 32 raw bytes; a token until apply. */
  readonly publicKey: string;
}

export interface CertusOrdoAgentProps {
  /**
   * Human-readable name, unique among the organization's non-revoked agents. 1-64 characters:
   * letters, digits, `.`, `_` and `-`, starting with a letter or digit. Name it after the service
   * and environment it serves, for example `invoice-processor-prod`.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Permitted operations, each `resource:action` in lowercase letters, digits, `_`, `-` and `.`
   * (for example `payments:read`), a single segment (`read`), or `resource:*`; at most 200 characters; at most 100 scopes;
   * duplicates are removed. Grant the least that works; more can be added with
   * `grantRead`/`grantWrite`/`grantAllActions`.
   * @default [] - no permissions
   */
  readonly scopes?: readonly string[];
  /**
   * String key/value pairs: at most 50 keys of 1-64 characters, with string values of at most 1024
   * characters. The `environment` key is read by `AgentBestPractices` to recognise production agents.
   * @default {} - no metadata
   */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * `active` or `suspended`; to revoke an agent, destroy the resource (revocation is permanent).
   * Enforced on every apply when set.
   * @default - not managed: Terraform leaves the status alone, so a suspension made at runtime
   * (for example by an operator over the REST API) survives the next deploy
   */
  readonly status?: ManagedAgentStatus;
  /**
   * Bring your own key, an Ed25519 public key: base64url (no padding) of the 32 raw bytes, 43
   * characters. Then no secret is issued and `secretOutput` is not available. Changing it replaces
   * the agent.
   * @default - the control plane generates a key pair; its secret is available once, through `secretOutput`
   */
  readonly publicKey?: string;
  /**
   * Arbitrary values that, when changed, replace the agent and so rotate its key (like `keepers`
   * of the `random` provider), for example `{ rotated: '2026-11' }`.
   * @default - no rotation trigger
   */
  readonly rotationTrigger?: Readonly<Record<string, string>>;
  /**
   * Workloads that authenticate as the agent with their platform tokens (at most 20). With at least
   * one and no `publicKey` the agent is **secretless**: it has no key, no secret exists anywhere
   * (plan, state, outputs), and `secretOutput` is refused.
   * @default [] - none: the agent authenticates with its key
   */
  readonly federatedCredentials?: readonly FederatedCredentialProps[];
}

/**
 * A workload whose platform token (GitHub Actions OIDC, a Kubernetes service-account token, a
 * SPIFFE JWT-SVID) authenticates the agent instead of a key: a `federated_credential` block.
 */
export interface FederatedCredentialProps {
  /** The platform token's `iss`: an `https` URL without user info, query or fragment. */
  readonly issuer: string;
  /** The platform token's `sub`, 1-512 characters. */
  readonly subject: string;
  /**
   * A value the token's `aud` must contain: the control plane's public URL or below it.
   * @default - the organization's issuer URL (`<public url>/orgs/<organization id>`)
   */
  readonly audience?: string;
  /**
   * Further top-level claims the token must carry with exactly these JSON values (at most 20; not
   * iss, sub, aud, exp, nbf, iat, jti), for example `{ workflow: 'release' }`.
   * @default - no further claims
   */
  readonly claims?: Readonly<Record<string, unknown>>;
  /**
   * The issuer's public keys inline (a JWK Set, public members only), for an issuer the control
   * plane cannot reach.
   * @default - fetched by OpenID discovery from `<issuer>/.well-known/openid-configuration`
   */
  readonly jwks?: { readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>> };
}

export interface SecretOutputOptions {
  /** @default - "Secret of agent <name> (shown once, at creation)" */
  readonly description?: string;
  /**
   * Use `id` itself as the Terraform output name instead of a name derived from the construct path.
   * @default false
   */
  readonly staticId?: boolean;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One agent identity in CertusOrdo. Destroying it revokes the agent (permanently). */
export class CertusOrdoAgent extends Construct implements IAgent {
  /** True for instances of this class (works across copies of the package). */
  public static isCertusOrdoAgent(x: unknown): x is CertusOrdoAgent {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[AGENT_SYMBOL] === true;
  }

  /**
   * An agent that exists already (created elsewhere), by id. Creates nothing; reading
   * `publicKey` adds a `certusordo_agent` data source lookup on first use.
   */
  public static fromAgentId(scope: Construct, id: string, agentId: string): IAgent {
    return new ImportedAgent(scope, id, agentId);
  }

  /** The agent name (as configured; may be a token). */
  public readonly agentName: string;
  /** The `metadata` prop as given. */
  public readonly metadata: Readonly<Record<string, string>>;
  private readonly resource: Agent;
  private readonly props: CertusOrdoAgentProps;
  private readonly granted: string[] = [];
  private readonly delegations = new Map<IAgent, AgentDelegation>();

  constructor(scope: Construct, id: string, props: CertusOrdoAgentProps = {}) {
    super(scope, id);
    Object.defineProperty(this, AGENT_SYMBOL, { value: true });
    this.props = props;
    this.agentName = props.name ?? id;
    this.metadata = props.metadata ?? {};

    const violations = propViolations({ ...props, name: this.agentName });
    if (violations.length) throw new ValidationError('Invalid CertusOrdoAgent props', violations, this);

    this.resource = new Agent(this, 'Resource', {
      name: this.agentName,
      scopes: Lazy.listValue({ produce: () => this.renderScopes() }),
      metadata: props.metadata === undefined ? undefined : { ...props.metadata },
      status: props.status,
      publicKey: props.publicKey,
      rotationTrigger: props.rotationTrigger === undefined ? undefined : { ...props.rotationTrigger },
      federatedCredential: props.federatedCredentials?.map(renderCredential),
    });
    registerStackChecks(this);
  }

  /** The agent id (UUID) assigned by the control plane; a token until apply. */
  public get agentId(): string {
    return this.resource.id;
  }

  /** The agent's public key (given, or generated by the control plane); a token until apply. */
  public get publicKey(): string {
    return this.resource.publicKey;
  }

  /** True when the agent has federated credentials and no key: it has no secret at all. */
  public get secretless(): boolean {
    return (this.props.federatedCredentials?.length ?? 0) > 0 && this.props.publicKey === undefined;
  }

  /** The scopes known at synth time: the `scopes` prop plus grants, tokens left out. */
  public get scopes(): string[] {
    const given = this.props.scopes;
    const known = given === undefined || Token.isUnresolved(given) ? [] : given.filter((s) => !Token.isUnresolved(s));
    return normalizeScopes([...known, ...this.granted]);
  }

  /** The `environment` metadata value, when set and known at synth time. */
  public get environment(): string | undefined {
    const env = this.metadata.environment;
    return env === undefined || Token.isUnresolved(env) ? undefined : env;
  }

  /**
   * A **sensitive** Terraform output holding the agent's secret (`cos_<agent id>_<43 base64url characters>`). The control
   * plane returns the secret only when it creates the agent, so read it from that deploy's outputs
   * (`cdktf deploy --outputs-file out.json --outputs-file-include-sensitive-outputs`) and store it.
   */
  public secretOutput(id: string, options: SecretOutputOptions = {}): TerraformOutput {
    if (this.props.publicKey !== undefined) {
      throw new ValidationError('No secret to output', ['the agent brings its own publicKey, so the control plane issues no secret'], this);
    }
    if (this.secretless) {
      throw new ValidationError('No secret to output', ['the agent is secretless (federated credentials, no key): no secret exists; its workloads authenticate with their platform tokens'], this);
    }
    return new TerraformOutput(this, id, {
      value: this.resource.secret,
      sensitive: true,
      staticId: options.staticId,
      description: options.description ?? `Secret of agent ${Token.isUnresolved(this.agentName) ? this.node.path : this.agentName} (shown once, at creation)`,
    });
  }

  /** Grants `resource:read`. Returns the scopes added. */
  public grantRead(resource: string): string[] {
    return this.grant(resource, ['read']);
  }

  /** Grants `resource:write`. Returns the scopes added. */
  public grantWrite(resource: string): string[] {
    return this.grant(resource, ['write']);
  }

  /** Grants `resource:*`, every action on the resource; use sparingly (warned about in production). */
  public grantAllActions(resource: string): string[] {
    return this.grant(resource, ['*']);
  }

  /** Grants arbitrary actions on a resource (`grantActions('reports', 'generate')`). */
  public grantActions(resource: string, ...actions: string[]): string[] {
    return this.grant(resource, actions);
  }

  /**
   * Lets `actor` act for this agent (adds it to this agent's `may_act`, one
   * `certusordo_agent_delegation`): the actor may exchange this agent's access tokens for tokens
   * with `sub` = this agent and `act.sub` = the actor (RFC 8693 token exchange), within both
   * agents' scopes, instead of being handed this agent's token. Granting the same actor twice
   * returns the first grant.
   */
  public grantActAs(actor: IAgent): AgentDelegation {
    if (actor === this) throw new ValidationError('Invalid delegation', ['an agent cannot act for itself'], this);
    const existing = this.delegations.get(actor);
    if (existing) return existing;
    const delegation = new AgentDelegation(this, `ActAs-${actor.node.addr}`, { subjectAgentId: this.agentId, actorAgentId: actor.agentId });
    this.delegations.set(actor, delegation);
    return delegation;
  }

  private grant(resource: string, actions: readonly string[]): string[] {
    if (this.props.scopes !== undefined && Token.isUnresolved(this.props.scopes)) {
      throw new ValidationError('Cannot grant', ['the `scopes` prop is a token, so grants cannot be added to it; list the scopes in the prop instead'], this);
    }
    const scopes = actions.map((a) => `${resource}:${a}`);
    const violations = scopes.flatMap(scopeViolations);
    if (violations.length) throw new ValidationError('Invalid grant', violations, this);
    this.granted.push(...scopes);
    return scopes;
  }

  private renderScopes(): string[] | undefined {
    const given = this.props.scopes;
    if (given !== undefined && Token.isUnresolved(given)) return given as string[];
    if (given === undefined && this.granted.length === 0) return undefined;
    return normalizeScopes([...(given ?? []), ...this.granted]);
  }
}

const AGENT_SYMBOL = Symbol.for('certusordo.CertusOrdoAgent');

/** Every violation of the props' known values; unresolved tokens are skipped (checked at apply). */
function propViolations(props: CertusOrdoAgentProps & { name: string }): string[] {
  const out: string[] = [];
  if (!Token.isUnresolved(props.name)) out.push(...nameViolations(props.name).map((v) => `${v} (got "${props.name}")`));
  if (props.scopes !== undefined && !Token.isUnresolved(props.scopes)) {
    out.push(...scopesViolations(props.scopes.filter((s) => !Token.isUnresolved(s))));
  }
  if (props.metadata !== undefined && !Token.isUnresolved(props.metadata)) {
    // Unresolved keys/values stand in as valid placeholders: they still count against the key limit.
    const known = Object.entries(props.metadata).map(([k, v], i) => [Token.isUnresolved(k) ? `token-key-${i}` : k, Token.isUnresolved(v) ? '' : v]);
    out.push(...metadataViolations(Object.fromEntries(known)));
  }
  const statusViolation = props.status === undefined || Token.isUnresolved(props.status) ? null : managedAgentStatusViolation(props.status);
  if (statusViolation) out.push(statusViolation);
  if (props.publicKey !== undefined && !Token.isUnresolved(props.publicKey)) {
    out.push(...publicKeyViolations(props.publicKey, 'publicKey'));
  }
  if (props.rotationTrigger !== undefined && !Token.isUnresolved(props.rotationTrigger)) {
    for (const [k, v] of Object.entries(props.rotationTrigger)) {
      if (typeof v !== 'string') out.push(`rotationTrigger value for "${k.slice(0, 80)}" must be a string`);
    }
  }
  out.push(...credentialViolations(props.federatedCredentials ?? []));
  return out;
}

/** The block as the provider takes it: the JSON fields as `jsonencode` would write them (the provider compares them as JSON). */
function renderCredential(c: FederatedCredentialProps): AgentFederatedCredential {
  return {
    issuer: c.issuer,
    subject: c.subject,
    audience: c.audience,
    claimsJson: c.claims === undefined ? undefined : canonicalJson(c.claims),
    jwks: c.jwks === undefined ? undefined : canonicalJson(c.jwks),
  };
}

/** The API's rules for federated credentials, each violation named by its index. */
export function credentialViolations(creds: readonly FederatedCredentialProps[]): string[] {
  if (Token.isUnresolved(creds)) return [];
  const out: string[] = [];
  if (creds.length > FEDERATED_CREDENTIALS_MAX) out.push(`federatedCredentials may have at most ${FEDERATED_CREDENTIALS_MAX} entries`);
  creds.forEach((c, i) => {
    const at = (v: string) => `federatedCredentials[${i}]: ${v}`;
    if (!Token.isUnresolved(c.issuer)) out.push(...issuerSyntax(c.issuer).violations.map(at));
    if (!Token.isUnresolved(c.subject)) out.push(...subjectViolations(c.subject).map(at));
    if (c.claims !== undefined && !Token.isUnresolved(c.claims)) out.push(...claimsViolations({ ...c.claims }).map(at));
    for (const k of c.jwks?.keys ?? []) {
      const priv = privateJwkMembers({ ...k });
      if (priv.length) out.push(at(`jwks must hold public keys only; a key has ${priv.join(', ')}`));
    }
  });
  return out;
}

/**
 * Cross-resource check, registered once per stack: names are unique among an organization's
 * non-revoked agents, so two agents of one stack with the same name would fail at apply.
 */
const checkedStacks = new WeakSet<TerraformStack>();
function registerStackChecks(agent: CertusOrdoAgent): void {
  const stack = TerraformStack.of(agent);
  if (checkedStacks.has(stack)) return;
  checkedStacks.add(stack);
  stack.node.addValidation({
    validate: () => {
      const byName = new Map<string, string[]>();
      for (const c of stack.node.findAll()) {
        if (!CertusOrdoAgent.isCertusOrdoAgent(c) || Token.isUnresolved(c.agentName)) continue;
        byName.set(c.agentName, [...(byName.get(c.agentName) ?? []), c.node.path]);
      }
      return [...byName]
        .filter(([, paths]) => paths.length > 1)
        .map(([name, paths]) => `agent name "${name}" is used by ${paths.length} agents (${paths.join(', ')}); names must be unique among an organization's non-revoked agents`);
    },
  });
}

class ImportedAgent extends Construct implements IAgent {
  public readonly agentId: string;
  private lookup?: DataCertusordoAgent;

  constructor(scope: Construct, id: string, agentId: string) {
    super(scope, id);
    if (!Token.isUnresolved(agentId) && !UUID_PATTERN.test(agentId)) {
      throw new ValidationError('Invalid agent id', [`agentId "${agentId}" must be the agent's UUID`], this);
    }
    this.agentId = agentId;
  }

  public get publicKey(): string {
    this.lookup ??= new DataCertusordoAgent(this, 'Lookup', { id: this.agentId });
    return this.lookup.publicKey;
  }
}
