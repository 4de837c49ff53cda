/**
 * Agents: creation (with server-generated or brought keys, or only federated credentials and no
 * key at all), listing, updates, the lifecycle (active ⇄ suspended → revoked), keys and federated
 * credentials. Every mutation is one audited unit of work (AuditLog.withAudit); lifecycle and
 * credential changes lock the agent row so concurrent calls serialize. The invariant: an agent that
 * is not revoked has at least one active key or federated credential.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { isUuid, requestedId, uuidv7 } from '../crypto/ids';
import { formatAgentSecret, generateEd25519, jwkThumbprint } from '../crypto/ed25519';
import * as ops from '../db/operations/agents';
import * as delegationOps from '../db/operations/delegations';
import * as fedOps from '../db/operations/federated-credentials';
import type { DbAgentFederatedCredentialRow, DbAgentKeyRow, DbAgentRow, DbAgentWithKeyRow } from '../db/tables';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../domain/errors';
import type {
  AgentCreateInput, AgentDelegationView, AgentKeyView, AgentListQueryInput, AgentUpdateInput, AgentView, FederatedCredentialCreateInput, FederatedCredentialView,
} from '../schemas/agents';
import { checkFederatedCredential, CheckedFederatedCredential, FederatedCredentialPolicy } from '../federation/credential-rules';
import { FEDERATED_CREDENTIALS_MAX } from '../../../model/federation';
import type { AuditContext, AuditLog, AuditUnit } from './audit';
import { decodeIdCursor, encodeCursor } from './cursor';
import { DEFAULT_IDEMPOTENCY_TTL_SECONDS, withIdempotency, IdempotentResult } from './idempotency';
import { publicKeyViolations } from '../../../model/agent';
import { iso } from './iso';
import { agentKeySeal, federatedCredentialSeal } from '../crypto/agent-key-seal';

import type { AgentTransition } from '../../../model/roles';

export type Transition = AgentTransition;


export function toAgentView(r: DbAgentWithKeyRow): AgentView {
  return {
    id: r.id,
    name: r.name,
    public_key: r.public_key ? Buffer.from(r.public_key).toString('base64url') : null,
    scopes: r.scopes,
    status: r.status,
    metadata: r.metadata,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    last_auth_at: iso(r.last_auth_at),
    may_act: r.may_act,
  };
}

function toKeyView(k: DbAgentKeyRow): AgentKeyView {
  return {
    kid: k.kid,
    public_key: Buffer.from(k.public_key).toString('base64url'),
    status: k.revoked_at ? 'revoked' : 'active',
    created_at: iso(k.created_at)!,
    revoked_at: iso(k.revoked_at),
  };
}

function toFederatedView(f: DbAgentFederatedCredentialRow): FederatedCredentialView {
  return {
    id: f.id,
    issuer: f.issuer,
    subject: f.subject,
    audience: f.audience,
    claims: f.claims,
    jwks: f.jwks,
    status: f.revoked_at ? 'revoked' : 'active',
    created_at: iso(f.created_at)!,
    revoked_at: iso(f.revoked_at),
  };
}

/** What makes two credentials the same trust (the inline keys aside). */
function trustKey(f: Pick<CheckedFederatedCredential, 'issuer' | 'subject' | 'audience' | 'claims'>): string {
  return JSON.stringify([f.issuer, f.subject, f.audience, sortKeys(f.claims)]);
}

const lastCredential = () =>
  new ConflictError('This is the agent\'s last active key or federated credential; add a key or a federated credential before removing it, or revoke the agent');

function notFound(): NotFoundError {
  return new NotFoundError('Agent not found');
}

function nameTaken(name: string): ConflictError {
  return new ConflictError(`An agent named "${name}" already exists in this organization`, [{ path: 'name', message: 'already in use by a non-revoked agent' }]);
}

/** Resolves the key material for a new agent or key: brought (public only) or generated (with a secret). */
function keyMaterial(agentId: string, publicKey: string | undefined): { publicKey: Buffer; secret?: string } {
  if (publicKey !== undefined) {
    // Shape, canonical encoding, and a usable curve point (node:crypto would import any 32 bytes).
    const violations = publicKeyViolations(publicKey);
    if (violations.length > 0) throw new ValidationError('public_key is not a valid Ed25519 public key', violations.map((message) => ({ path: 'public_key', message })));
    return { publicKey: Buffer.from(publicKey, 'base64url') };
  }
  const pair = generateEd25519();
  return { publicKey: pair.publicKey, secret: formatAgentSecret(agentId, pair.seed) };
}

/**
 * Checks the actors a subject's `may_act` gains, whose rows the caller holds locked: each must be
 * an agent of the subject's organization, not revoked, not the subject itself. Unknown ids and
 * other organizations' ids get the same answer, so nothing reveals another organization's agents.
 */
function checkActors(orgId: string, subjectId: string, actorIds: readonly string[], locked: readonly delegationOps.LockedAgentRow[], path: string): void {
  const byId = new Map(locked.map((r) => [r.id, r]));
  const violations = actorIds.flatMap((id) => {
    const row = byId.get(id);
    if (id === subjectId) return [{ path, message: `${id}: an agent cannot act for itself` }];
    if (!row || row.organization_id !== orgId) return [{ path, message: `${id}: no agent with this id in the organization` }];
    if (row.status === 'revoked') return [{ path, message: `${id}: the agent is revoked` }];
    return [];
  });
  if (violations.length > 0) throw new ValidationError('may_act names agents that cannot act for this agent', violations);
}

/** Listeners told after commit that a subject's `may_act` gained or lost an actor (token caches use this). */
export type DelegationListener = (subjectId: string, actorId: string) => void;

/** Listeners told after commit that an agent's status changed (token caches use this). */
export type StatusListener = (orgId: string, agentId: string, status: AgentView['status']) => void;

/**
 * Work done inside a status change's unit of work, after its audit event is queued (e.g. ending
 * sessions); it holds the agent's row lock, so it follows the lock order from there.
 */
export type TransitionHook = (tx: Knex.Transaction, audit: AuditUnit, ctx: AuditContext, agentId: string, to: AgentView['status']) => Promise<void>;

export class AgentService {
  private readonly statusListeners: StatusListener[] = [];
  private readonly createdListeners: Array<(agentId: string) => void> = [];
  private readonly transitionHooks: TransitionHook[] = [];
  private readonly delegationListeners: DelegationListener[] = [];
  private readonly scopesListeners: Array<(orgId: string, agentId: string) => void> = [];

  constructor(
    private readonly db: Knex,
    private readonly audit: AuditLog,
    /** Seals every key and federated credential row (crypto/agent-key-seal.ts): the token endpoint trusts only sealed ones. */
    private readonly keySeal: Buffer,
    private readonly idempotencyTtlMs: number = DEFAULT_IDEMPOTENCY_TTL_SECONDS * 1000,
    /** The server's public URL and address rule for federated credentials; null: a process that serves no agents (CLI bootstrap). */
    private readonly federation: FederatedCredentialPolicy | null = null,
  ) {}

  /** A new active key row of the agent, sealed to its organization and agent. */
  private keyRow(orgId: string, agentId: string, kid: string, publicKey: Buffer, at: Date): DbAgentKeyRow {
    const seal = agentKeySeal(this.keySeal, { organization_id: orgId, agent_id: agentId, kid, public_key: publicKey });
    return { agent_id: agentId, kid, public_key: publicKey, seal, created_at: at, revoked_at: null };
  }

  /** The credentials checked (every violation of every one at once), or a ValidationError. */
  private checkFederated(orgId: string, inputs: readonly FederatedCredentialCreateInput[], path: (i: number) => string): CheckedFederatedCredential[] {
    if (inputs.length === 0) return [];
    if (!this.federation) throw new ValidationError('This process does not accept federated credentials');
    const out: CheckedFederatedCredential[] = [];
    const details: { path: string; message: string }[] = [];
    const seen = new Set<string>();
    inputs.forEach((input, i) => {
      const r = checkFederatedCredential(input, orgId, this.federation!, path(i));
      if (!r.ok) return void details.push(...r.details);
      if (seen.has(trustKey(r.value))) details.push({ path: path(i), message: 'duplicate federated credential (same issuer, subject, audience and claims)' });
      seen.add(trustKey(r.value));
      out.push(r.value);
    });
    if (details.length) throw new ValidationError('A federated credential is not valid', details);
    return out;
  }

  onStatusChange(listener: StatusListener): void {
    this.statusListeners.push(listener);
  }

  /** Told after commit that an agent was created (negative caches in this process forget its id at once). */
  onCreated(listener: (agentId: string) => void): void {
    this.createdListeners.push(listener);
  }

  onTransition(hook: TransitionHook): void {
    this.transitionHooks.push(hook);
  }

  onDelegationChange(listener: DelegationListener): void {
    this.delegationListeners.push(listener);
  }

  private announceDelegations(subjectId: string, actorIds: readonly string[]): void {
    for (const actor of actorIds) for (const l of this.delegationListeners) l(subjectId, actor);
  }

  /** Called after a change of an agent's scopes commits (before the change's response). */
  onScopesChange(listener: (orgId: string, agentId: string) => void): void {
    this.scopesListeners.push(listener);
  }

  async create(ctx: AuditContext, input: AgentCreateInput, idempotencyKey?: string): Promise<IdempotentResult<AgentView>> {
    const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
    const federated = this.checkFederated(ctx.organizationId, input.federated_credentials ?? [], (i) => `federated_credentials.${i}`);
    const result = await withIdempotency(this.db, this.audit, { orgId: ctx.organizationId, scope: 'agents.create', key: idempotencyKey, requestHash, ttlMs: this.idempotencyTtlMs }, async (tx, audit) => {
      const now = new Date();
      const id = uuidv7(now.getTime());
      // An agent declared with federated credentials only has no key, so no secret exists anywhere.
      const key = input.public_key !== undefined || federated.length === 0 ? keyMaterial(id, input.public_key) : null;
      const kid = key ? jwkThumbprint(key.publicKey) : null;
      const row: DbAgentRow = {
        id, organization_id: ctx.organizationId, name: input.name, scopes: input.scopes, status: 'active',
        metadata: input.metadata, created_at: now, updated_at: now, last_auth_at: null, status_changed_at: now,
      };
      const { inserted } = key
        ? await ops.insertAgentWithKey(tx, row, this.keyRow(ctx.organizationId, id, kid!, key.publicKey, now))
        : await ops.insertAgent(tx, row);
      if (!inserted) throw nameTaken(input.name);
      if (input.may_act.length > 0) {
        checkActors(ctx.organizationId, id, input.may_act, await delegationOps.lockAgentsInOrder(tx, ctx.organizationId, input.may_act), 'may_act');
        await delegationOps.insertDelegations(tx, ctx.organizationId, id, input.may_act, now);
      }
      const mayAct = [...input.may_act].sort();
      const credentials = federated.map((f) => this.federatedRow(ctx.organizationId, id, f, now));
      await fedOps.insertFederatedCredentials(tx, credentials);
      const view = toAgentView({ ...row, public_key: key?.publicKey ?? null, may_act: mayAct });
      audit.append(ctx, {
        action: 'agent.created', targetType: 'agent', targetId: id,
        data: {
          name: input.name, scopes: input.scopes, kid, key_source: key ? (key.secret ? 'generated' : 'brought') : 'none',
          ...(credentials.length ? { federated_credentials: credentials.map((c) => ({ id: c.id, issuer: c.issuer, subject: c.subject })) } : {}),
          ...(mayAct.length ? { may_act: mayAct } : {}),
        },
      });
      // The stored (replayable) body never includes the secret; only this first response does.
      return { stored: view, response: key?.secret ? { ...view, secret: key.secret } : view };
    });
    if (!result.replayed) {
      for (const l of this.createdListeners) l(result.stored.id);
      this.announceDelegations(result.stored.id, result.stored.may_act);
    }
    return result;
  }

  /** A new active federated credential row of the agent, sealed to its organization and agent. */
  private federatedRow(orgId: string, agentId: string, f: CheckedFederatedCredential, at: Date): DbAgentFederatedCredentialRow {
    const row = { id: uuidv7(at.getTime()), agent_id: agentId, organization_id: orgId, ...f };
    return { ...row, created_at: at, revoked_at: null, seal: federatedCredentialSeal(this.keySeal, row) };
  }

  async get(orgId: string, id: string): Promise<AgentView> {
    if (!isUuid(id)) throw notFound(); // a malformed id is simply an id that does not exist
    const row = await ops.getAgent(this.db, orgId, id);
    if (!row) throw notFound();
    return toAgentView(row);
  }

  async list(orgId: string, q: AgentListQueryInput): Promise<{ data: AgentView[]; next_cursor: string | null }> {
    const afterId = q.cursor !== undefined ? decodeIdCursor('a1', q.cursor) : undefined;
    // Malformed ids match nothing (as GET /v1/agents/{id} answers 404); only well-formed ones reach the uuid column.
    const ids = q.id ? [...new Set(q.id.filter(isUuid).map((i) => i.toLowerCase()))] : undefined;
    if (ids && ids.length === 0) return { data: [], next_cursor: null };
    const rows = await ops.listAgents(this.db, orgId, {
      status: q.status, name: q.name, namePrefix: q.name_prefix, neverAuthenticated: q.never_authenticated,
      inactiveSince: q.inactive_since, ids, afterId, limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    return { data: page.map(toAgentView), next_cursor: rows.length > q.limit ? encodeCursor('a1', page[page.length - 1]!.id) : null };
  }

  async update(ctx: AuditContext, id: string, patch: AgentUpdateInput): Promise<AgentView> {
    const requested = requestedId(id, notFound);
    const delegationChanges: string[] = [];
    let scopesChanged = false;
    const view = await this.audit.withAudit(this.db, async (tx, audit) => {
      // The agent and the actors it names, locked together in id order (see lockAgentsInOrder).
      const locked = patch.may_act !== undefined ? await delegationOps.lockAgentsInOrder(tx, ctx.organizationId, [requested, ...patch.may_act]) : [];
      const before = await ops.getAgent(tx, ctx.organizationId, requested, { forUpdate: true });
      if (!before) throw notFound();
      if (before.status === 'revoked') throw new ConflictError('The agent is revoked and can no longer be changed');
      const delegation = patch.may_act === undefined ? null : await this.replaceMayAct(tx, ctx.organizationId, before, patch.may_act, locked);
      const changes: Record<string, unknown> = {};
      if (patch.name !== undefined && patch.name !== before.name) changes.name = patch.name;
      if (patch.scopes !== undefined && JSON.stringify(patch.scopes) !== JSON.stringify(before.scopes)) changes.scopes = patch.scopes;
      if (patch.metadata !== undefined && JSON.stringify(sortKeys(patch.metadata)) !== JSON.stringify(sortKeys(before.metadata))) changes.metadata = patch.metadata;
      if (delegation) {
        changes.may_act = patch.may_act;
        delegationChanges.push(...delegation.added, ...delegation.removed);
      }
      if (Object.keys(changes).length === 0) return toAgentView(before);
      const { may_act: _mayAct, ...fields } = changes;
      void _mayAct;
      const { updated } = await ops.updateAgentFields(tx, ctx.organizationId, before.id, { ...fields, updated_at: new Date() });
      if (!updated) throw nameTaken(String(changes.name));
      const after = toAgentView((await ops.getAgent(tx, ctx.organizationId, before.id))!);
      const delegationData = delegation ? { may_act: after.may_act, may_act_added: delegation.added, may_act_removed: delegation.removed } : {};
      audit.append(ctx, { action: 'agent.updated', targetType: 'agent', targetId: before.id, data: { changed: Object.keys(changes), ...fields, ...delegationData } });
      scopesChanged = changes.scopes !== undefined;
      return after;
    });
    // The row's id, as the caches hold it (they are keyed by the id tokens carry).
    this.announceDelegations(view.id, delegationChanges);
    if (scopesChanged) for (const l of this.scopesListeners) l(ctx.organizationId, view.id);
    return view;
  }

  /** Makes the subject's `may_act` exactly `actorIds`; null when it already was. Only added actors are checked. */
  private async replaceMayAct(
    tx: Knex.Transaction, orgId: string, subject: DbAgentWithKeyRow, actorIds: readonly string[], locked: readonly delegationOps.LockedAgentRow[],
  ): Promise<{ added: string[]; removed: string[] } | null> {
    const current = new Set(subject.may_act);
    const wanted = new Set(actorIds);
    const toAdd = actorIds.filter((a) => !current.has(a));
    const toRemove = subject.may_act.filter((a) => !wanted.has(a));
    if (toAdd.length === 0 && toRemove.length === 0) return null;
    checkActors(orgId, subject.id, toAdd, locked, 'may_act');
    const removed = await delegationOps.deleteDelegations(tx, subject.id, toRemove);
    const added = await delegationOps.insertDelegations(tx, orgId, subject.id, toAdd, new Date());
    return { added: added.sort(), removed: removed.sort() };
  }

  /** The grant "actor may act for subject", or NotFoundError when the subject's `may_act` does not list it. */
  async getDelegation(orgId: string, subjectId: string, actorId: string): Promise<AgentDelegationView> {
    if (!isUuid(subjectId) || !isUuid(actorId)) throw new NotFoundError('Delegation not found');
    const subject = await ops.getAgent(this.db, orgId, subjectId);
    if (!subject) throw notFound();
    const createdAt = await delegationOps.getDelegationCreatedAt(this.db, subject.id, actorId.toLowerCase());
    if (!createdAt) throw new NotFoundError('Delegation not found');
    return { subject_agent_id: subject.id, actor_agent_id: actorId.toLowerCase(), created_at: iso(createdAt)! };
  }

  /**
   * Adds one actor to the subject's `may_act` (Terraform's one grant per resource); granting an
   * existing pair again changes nothing.
   */
  async grantDelegation(ctx: AuditContext, subjectId: string, actorId: string): Promise<AgentDelegationView> {
    if (!isUuid(subjectId)) throw notFound();
    const actor = actorId.toLowerCase();
    if (!isUuid(actor)) throw new ValidationError('actor_id is not an agent id', [{ path: 'actor_id', message: 'must be an agent id (a UUID)' }]);
    let added = false;
    const view = await this.audit.withAudit(this.db, async (tx, audit) => {
      const locked = await delegationOps.lockAgentsInOrder(tx, ctx.organizationId, [subjectId, actor]);
      const subject = locked.find((r) => r.id === subjectId.toLowerCase() && r.organization_id === ctx.organizationId);
      if (!subject) throw notFound();
      if (subject.status === 'revoked') throw new ConflictError('The agent is revoked and can no longer be changed');
      checkActors(ctx.organizationId, subject.id, [actor], locked, 'actor_id');
      const now = new Date();
      added = (await delegationOps.insertDelegations(tx, ctx.organizationId, subject.id, [actor], now)).length > 0;
      if (!added) return { subject_agent_id: subject.id, actor_agent_id: actor, created_at: iso((await delegationOps.getDelegationCreatedAt(tx, subject.id, actor))!)! };
      await ops.updateAgent(tx, ctx.organizationId, subject.id, { updated_at: now });
      audit.append(ctx, { action: 'agent.delegation_granted', targetType: 'agent', targetId: subject.id, data: { actor_agent_id: actor } });
      return { subject_agent_id: subject.id, actor_agent_id: actor, created_at: iso(now)! };
    });
    if (added) this.announceDelegations(view.subject_agent_id, [actor]);
    return view;
  }

  /**
   * Removes one actor from the subject's `may_act`: every token it holds for the subject (and
   * every token derived from those) stops working at once. NotFoundError when it was not listed.
   */
  async removeDelegation(ctx: AuditContext, subjectId: string, actorId: string): Promise<AgentDelegationView> {
    if (!isUuid(subjectId) || !isUuid(actorId)) throw new NotFoundError('Delegation not found');
    const actor = actorId.toLowerCase();
    const view = await this.audit.withAudit(this.db, async (tx, audit) => {
      const subject = await ops.getAgent(tx, ctx.organizationId, subjectId, { forUpdate: true });
      if (!subject) throw notFound();
      const createdAt = await delegationOps.getDelegationCreatedAt(tx, subject.id, actor);
      if (!createdAt || (await delegationOps.deleteDelegations(tx, subject.id, [actor])).length === 0) throw new NotFoundError('Delegation not found');
      await ops.updateAgent(tx, ctx.organizationId, subject.id, { updated_at: new Date() });
      audit.append(ctx, { action: 'agent.delegation_removed', targetType: 'agent', targetId: subject.id, data: { actor_agent_id: actor } });
      return { subject_agent_id: subject.id, actor_agent_id: actor, created_at: iso(createdAt)! };
    });
    this.announceDelegations(view.subject_agent_id, [actor]);
    return view;
  }

  async transition(ctx: AuditContext, id: string, action: Transition, reason: string | undefined): Promise<AgentView> {
    const requested = requestedId(id, notFound);
    let changedTo: AgentView['status'] | null = null;
    const view = await this.audit.withAudit(this.db, async (tx, audit) => {
      const before = await ops.getAgent(tx, ctx.organizationId, requested, { forUpdate: true });
      if (!before) throw notFound();
      const target = action === 'suspend' ? 'suspended' : action === 'activate' ? 'active' : 'revoked';
      if (before.status === 'revoked') {
        if (action === 'revoke') return toAgentView(before); // revoking twice is a no-op
        throw new InvalidTransitionError(`Cannot ${action} a revoked agent: revocation is permanent`);
      }
      if (before.status === target) return toAgentView(before);
      const now = new Date();
      await ops.updateAgent(tx, ctx.organizationId, before.id, { status: target, updated_at: now, status_changed_at: now });
      audit.append(ctx, {
        action: `agent.${target === 'active' ? 'activated' : target}`, targetType: 'agent', targetId: before.id,
        reason: reason ?? null, data: { from: before.status, to: target },
      });
      for (const hook of this.transitionHooks) await hook(tx, audit, ctx, before.id, target);
      changedTo = target;
      return toAgentView({ ...before, status: target, updated_at: now, status_changed_at: now });
    });
    // The row's id, as the caches hold it: the agent's live tokens are refused before this answers.
    if (changedTo) for (const l of this.statusListeners) l(ctx.organizationId, view.id, changedTo);
    return view;
  }

  async listKeys(orgId: string, id: string): Promise<AgentKeyView[]> {
    if (!isUuid(id) || !(await ops.getAgent(this.db, orgId, id))) throw notFound();
    return (await ops.listAgentKeys(this.db, id)).map(toKeyView);
  }

  async addKey(ctx: AuditContext, id: string, publicKey: string | undefined, idempotencyKey?: string): Promise<IdempotentResult<AgentKeyView>> {
    const requested = requestedId(id, notFound);
    const requestHash = createHash('sha256').update(JSON.stringify({ id: requested, publicKey })).digest('hex');
    return withIdempotency(this.db, this.audit, { orgId: ctx.organizationId, scope: 'agent_keys.create', key: idempotencyKey, requestHash, ttlMs: this.idempotencyTtlMs }, async (tx, audit) => {
      const agent = await ops.getAgent(tx, ctx.organizationId, requested, { forUpdate: true });
      if (!agent) throw notFound();
      if (agent.status === 'revoked') throw new ConflictError('The agent is revoked; it can no longer hold keys');
      // The seal and the secret name the row's id: the token endpoint checks the seal against it.
      const key = keyMaterial(agent.id, publicKey);
      const kid = jwkThumbprint(key.publicKey);
      const existing = (await ops.listAgentKeys(tx, agent.id)).find((k) => k.kid === kid);
      if (existing) throw new ConflictError('This public key is already registered for the agent', [{ path: 'public_key', message: 'duplicate key' }]);
      const row = this.keyRow(ctx.organizationId, agent.id, kid, key.publicKey, new Date());
      await ops.insertAgentKey(tx, row);
      await ops.updateAgent(tx, ctx.organizationId, agent.id, { updated_at: row.created_at });
      const view = toKeyView(row);
      audit.append(ctx, { action: 'agent_key.created', targetType: 'agent', targetId: agent.id, data: { kid, key_source: key.secret ? 'generated' : 'brought' } });
      return { stored: view, response: key.secret ? { ...view, secret: key.secret } : view };
    });
  }

  async removeKey(ctx: AuditContext, id: string, kid: string): Promise<AgentKeyView> {
    const requested = requestedId(id, notFound);
    return this.audit.withAudit(this.db, async (tx, audit) => {
      const agent = await ops.getAgent(tx, ctx.organizationId, requested, { forUpdate: true });
      if (!agent) throw notFound();
      const keys = await ops.listAgentKeys(tx, agent.id);
      const key = keys.find((k) => k.kid === kid);
      if (!key) throw new NotFoundError('Key not found');
      if (key.revoked_at) return toKeyView(key);
      if (agent.status !== 'revoked' && keys.filter((k) => !k.revoked_at).length === 1 && (await fedOps.countActiveFederatedCredentials(tx, agent.id)) === 0) {
        throw lastCredential();
      }
      const now = new Date();
      await ops.revokeAgentKey(tx, agent.id, kid, now);
      await ops.updateAgent(tx, ctx.organizationId, agent.id, { updated_at: now });
      audit.append(ctx, { action: 'agent_key.revoked', targetType: 'agent', targetId: agent.id, data: { kid } });
      return toKeyView({ ...key, revoked_at: now });
    });
  }

  async listFederatedCredentials(orgId: string, id: string): Promise<FederatedCredentialView[]> {
    if (!isUuid(id) || !(await ops.getAgent(this.db, orgId, id))) throw notFound();
    return (await fedOps.listFederatedCredentials(this.db, id)).map(toFederatedView);
  }

  async addFederatedCredential(ctx: AuditContext, id: string, input: FederatedCredentialCreateInput, idempotencyKey?: string): Promise<IdempotentResult<FederatedCredentialView>> {
    const requested = requestedId(id, notFound);
    const [checked] = this.checkFederated(ctx.organizationId, [input], () => '');
    const requestHash = createHash('sha256').update(JSON.stringify({ id: requested, input })).digest('hex');
    return withIdempotency(this.db, this.audit, { orgId: ctx.organizationId, scope: 'agent_federated_credentials.create', key: idempotencyKey, requestHash, ttlMs: this.idempotencyTtlMs }, async (tx, audit) => {
      const agent = await ops.getAgent(tx, ctx.organizationId, requested, { forUpdate: true });
      if (!agent) throw notFound();
      if (agent.status === 'revoked') throw new ConflictError('The agent is revoked; it can no longer hold credentials');
      const active = (await fedOps.listFederatedCredentials(tx, agent.id)).filter((f) => !f.revoked_at);
      if (active.some((f) => trustKey(f) === trustKey(checked!))) {
        throw new ConflictError('This federated credential is already registered for the agent', [{ path: 'issuer', message: 'duplicate federated credential (same issuer, subject, audience and claims)' }]);
      }
      if (active.length >= FEDERATED_CREDENTIALS_MAX) {
        throw new ConflictError(`The agent already has ${FEDERATED_CREDENTIALS_MAX} active federated credentials; remove one first`, [{ path: 'federated_credentials', message: `at most ${FEDERATED_CREDENTIALS_MAX} per agent` }]);
      }
      // The seal names the row's id: the token endpoint checks it against that.
      const row = this.federatedRow(ctx.organizationId, agent.id, checked!, new Date());
      await fedOps.insertFederatedCredentials(tx, [row]);
      await ops.updateAgent(tx, ctx.organizationId, agent.id, { updated_at: row.created_at });
      audit.append(ctx, { action: 'agent_federated_credential.created', targetType: 'agent', targetId: agent.id, data: { credential_id: row.id, issuer: row.issuer, subject: row.subject, audience: row.audience } });
      const view = toFederatedView(row);
      return { stored: view, response: view };
    });
  }

  async removeFederatedCredential(ctx: AuditContext, id: string, credentialId: string): Promise<FederatedCredentialView> {
    const requested = requestedId(id, notFound);
    const credentialNotFound = () => new NotFoundError('Federated credential not found');
    if (!isUuid(credentialId)) throw credentialNotFound();
    return this.audit.withAudit(this.db, async (tx, audit) => {
      const agent = await ops.getAgent(tx, ctx.organizationId, requested, { forUpdate: true });
      if (!agent) throw notFound();
      const all = await fedOps.listFederatedCredentials(tx, agent.id);
      const credential = all.find((f) => f.id === credentialId.toLowerCase());
      if (!credential) throw credentialNotFound();
      if (credential.revoked_at) return toFederatedView(credential);
      if (agent.status !== 'revoked' && agent.public_key === null && all.filter((f) => !f.revoked_at).length === 1) throw lastCredential();
      const now = new Date();
      await fedOps.revokeFederatedCredential(tx, agent.id, credential.id, now);
      await ops.updateAgent(tx, ctx.organizationId, agent.id, { updated_at: now });
      audit.append(ctx, { action: 'agent_federated_credential.revoked', targetType: 'agent', targetId: agent.id, data: { credential_id: credential.id, issuer: credential.issuer, subject: credential.subject } });
      return toFederatedView({ ...credential, revoked_at: now });
    });
  }
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

