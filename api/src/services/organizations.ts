/**
 * Organizations and their API keys. Keys are shown once, at creation; afterwards only the
 * prefix, role and timestamps are visible.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { apiKeyBinding, generateApiKey, hashApiKey, apiKeyMatches, isWellFormedApiKey, lookupPrefix } from '../crypto/api-keys';
import { isUuid, uuidv7 } from '../crypto/ids';
import { textViolations } from '../../../model/text';
import * as ops from '../db/operations/organizations';
import type { ApiKeyRole, DbApiKeyRow } from '../db/tables';
import type { ApiKeyMe, ApiKeyName as ApiKeyNameSchema, ApiKeyView as ApiKeyViewSchema } from '../schemas/responses';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import type { AuditContext, AuditLog, AuditUnit } from './audit';
import { DEFAULT_IDEMPOTENCY_TTL_SECONDS, IdempotentResult, withIdempotency } from './idempotency';
import { iso } from './iso';

import { API_KEY_NAME_MAX } from '../../../model/limits';
import { API_KEY_ROLE_RULE, API_KEY_ROLES } from '../../../model/roles';

export const ApiKeyCreate = z
  .strictObject({
    name: z.string().trim().min(1).max(API_KEY_NAME_MAX).superRefine((v, ctx) => textViolations(v).forEach((message) => ctx.addIssue({ code: 'custom', message }))).meta({ description: 'What the key is for', example: 'ci-pipeline' }),
    role: z.enum(API_KEY_ROLES).meta({ description: `Required. ${API_KEY_ROLE_RULE}` }),
  })
  .meta({ id: 'ApiKeyCreate' });
export type ApiKeyCreateInput = z.output<typeof ApiKeyCreate>;

/** An API key as the API shows it (its response schema). */
export type ApiKeyView = z.output<typeof ApiKeyViewSchema>;
export type ApiKeyIdentity = z.output<typeof ApiKeyMe>;
export type ApiKeyName = z.output<typeof ApiKeyNameSchema>;

export interface AuthenticatedKey {
  readonly id: string;
  readonly organizationId: string;
  readonly role: ApiKeyRole;
}


/** Something created, announced after commit. */
export type Created = { kind: 'organization'; id: string } | { kind: 'api_key'; id: string };

export function toApiKeyView(r: DbApiKeyRow): ApiKeyView {
  return { id: r.id, name: r.name, role: r.role, prefix: r.prefix, created_at: iso(r.created_at)!, last_used_at: iso(r.last_used_at), revoked_at: iso(r.revoked_at) };
}

export class OrganizationService {
  /** last_used_at is written at most once a minute per key, to keep reads free of writes. */
  private readonly touched = new Map<string, number>();
  private readonly revokedListeners: Array<(apiKeyId: string) => void> = [];
  private readonly createdListeners: Array<(created: Created) => void> = [];

  constructor(
    private readonly db: Knex,
    private readonly pepper: Buffer,
    private readonly audit: AuditLog,
    private readonly idempotencyTtlMs: number = DEFAULT_IDEMPOTENCY_TTL_SECONDS * 1000,
  ) {}

  /** Told after commit that a key was revoked (caches in this process forget it at once). */
  onApiKeyRevoked(listener: (apiKeyId: string) => void): void {
    this.revokedListeners.push(listener);
  }

  /** Told after commit that an organization or API key was created (negative caches in this process forget at once). */
  onCreated(listener: (created: Created) => void): void {
    this.createdListeners.push(listener);
  }

  private created(...items: Created[]): void {
    for (const c of items) for (const l of this.createdListeners) l(c);
  }

  async createOrganization(name: string): Promise<{ id: string; name: string }> {
    const problems = [...(name.trim() ? [] : ['name must not be empty']), ...textViolations(name, 'name')];
    if (problems.length) throw new ValidationError(`Invalid organization name: ${problems.join('; ')}`, problems.map((message) => ({ path: 'name', message })));
    const id = await this.audit.withAudit(this.db, (tx, audit) => this.insertOrganization(tx, audit, name, { name }));
    this.created({ kind: 'organization', id });
    return { id, name };
  }

  /**
   * First start: with no organization at all, creates one and its first admin API key, and returns
   * the key (to be shown exactly once); null when the store already has organizations. Replicas
   * starting together are serialized, so only one of them bootstraps.
   */
  async bootstrapIfEmpty(name = 'default'): Promise<{ organizationId: string; apiKey: string } | null> {
    const made = await this.audit.withAudit(this.db, async (tx, audit) => {
      await ops.lockBootstrap(tx);
      if ((await ops.countOrganizations(tx)) > 0) return null;
      const id = await this.insertOrganization(tx, audit, name, { name, bootstrap: true });
      const key = await this.insertApiKey(tx, audit, systemContext(id), { name: 'bootstrap admin', role: 'admin' });
      return { organizationId: id, apiKey: key.key, apiKeyId: key.id };
    });
    if (!made) return null;
    this.created({ kind: 'organization', id: made.organizationId }, { kind: 'api_key', id: made.apiKeyId });
    return { organizationId: made.organizationId, apiKey: made.apiKey };
  }

  /** The organization row, its audit chain, and the chain's first event. */
  private async insertOrganization(tx: Knex.Transaction, audit: AuditUnit, name: string, data: Record<string, unknown>): Promise<string> {
    const id = uuidv7();
    await ops.insertOrganization(tx, { id, name, created_at: new Date() });
    await audit.startChain(id);
    audit.append(systemContext(id), { action: 'organization.created', targetType: 'organization', targetId: id, data });
    return id;
  }

  async isEmpty(): Promise<boolean> {
    return (await ops.countOrganizations(this.db)) === 0;
  }

  async organizationExists(id: string): Promise<boolean> {
    return isUuid(id) && (await ops.getOrganization(this.db, id)) !== undefined;
  }

  /** Creates a key and returns it once, with its view. */
  async createApiKey(ctx: AuditContext, input: ApiKeyCreateInput): Promise<ApiKeyView & { key: string }> {
    const key = await this.audit.withAudit(this.db, (tx, audit) => this.insertApiKey(tx, audit, ctx, input));
    this.created({ kind: 'api_key', id: key.id });
    return key;
  }

  private async insertApiKey(tx: Knex.Transaction, audit: AuditUnit, ctx: AuditContext, input: ApiKeyCreateInput): Promise<ApiKeyView & { key: string }> {
    // The 8-character prefix has 48 random bits; a new key is drawn on the (astronomically rare) collision.
    for (let attempt = 1; ; attempt++) {
      const { key, prefix } = generateApiKey();
      const grant = { organization_id: ctx.organizationId, role: input.role, key_hash: hashApiKey(this.pepper, key) };
      const row: DbApiKeyRow = {
        id: uuidv7(), name: input.name, prefix, ...grant, binding: apiKeyBinding(this.pepper, grant), created_at: new Date(), last_used_at: null, revoked_at: null,
      };
      const { inserted } = await ops.insertApiKey(tx, row);
      if (!inserted) {
        if (attempt < 3) continue;
        throw new Error('could not draw an unused API key prefix');
      }
      audit.append(ctx, { action: 'api_key.created', targetType: 'api_key', targetId: row.id, data: { name: row.name, role: row.role } }); // no prefix: readers see the audit log, prefixes are for admins
      return { ...toApiKeyView(row), key };
    }
  }

  /** The HTTP create: idempotent, and a replay never contains the key (it is not stored). */
  async createApiKeyOnce(ctx: AuditContext, input: ApiKeyCreateInput, idempotencyKey?: string): Promise<IdempotentResult<ApiKeyView & { key?: string }>> {
    const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
    const result = await withIdempotency(this.db, this.audit, { orgId: ctx.organizationId, scope: 'api_keys.create', key: idempotencyKey, requestHash, ttlMs: this.idempotencyTtlMs }, async (tx, audit) => {
      const { key, ...view } = await this.insertApiKey(tx, audit, ctx, input);
      return { stored: view, response: { ...view, key } };
    });
    if (!result.replayed) this.created({ kind: 'api_key', id: result.stored.id });
    return result;
  }

  /** The presented key as the key itself may see it, with its organization's name. */
  async describeKey(key: AuthenticatedKey): Promise<ApiKeyIdentity> {
    const org = await ops.getOrganization(this.db, key.organizationId);
    if (!org) throw new NotFoundError('Organization not found');
    return { id: key.id, organization_id: key.organizationId, organization_name: org.name, role: key.role };
  }

  /** Names and roles of the organization's keys among `ids` (revoked ones too: old audit events name them); unknown and malformed ids match nothing. */
  async apiKeyNames(orgId: string, ids: readonly string[]): Promise<ApiKeyName[]> {
    const wanted = [...new Set(ids.filter(isUuid).map((i) => i.toLowerCase()))];
    if (wanted.length === 0) return [];
    return (await ops.listApiKeyNames(this.db, orgId, wanted)).map((r) => ({ id: r.id, name: r.name, role: r.role, revoked: r.revoked_at !== null }));
  }

  async listApiKeys(orgId: string): Promise<ApiKeyView[]> {
    return (await ops.listApiKeys(this.db, orgId)).map(toApiKeyView);
  }

  /**
   * Revokes a key, but never the organization's last active admin key (nobody could manage the
   * organization afterwards). The organization row lock serializes revocations: of two concurrent
   * revocations of the last two admin keys, the second counts after the first committed.
   */
  async revokeApiKey(ctx: AuditContext, id: string): Promise<ApiKeyView> {
    if (!isUuid(id)) throw new NotFoundError('API key not found');
    const view = await this.audit.withAudit(this.db, async (tx, audit) => {
      await ops.lockOrganization(tx, ctx.organizationId);
      const target = await ops.getApiKey(tx, ctx.organizationId, id);
      if (!target) throw new NotFoundError('API key not found');
      if (target.role === 'admin' && target.revoked_at === null && (await ops.countActiveAdminKeys(tx, ctx.organizationId)) <= 1) {
        throw new ConflictError(
          "This is the organization's last active admin key: revoking it would leave nobody able to manage the organization. Create another admin key first, then revoke this one.",
          [{ path: 'id', message: 'last active admin key' }],
        );
      }
      const changed = await ops.revokeApiKey(tx, ctx.organizationId, id, new Date());
      const row = await ops.getApiKey(tx, ctx.organizationId, id);
      if (!row) throw new NotFoundError('API key not found');
      if (changed) audit.append(ctx, { action: 'api_key.revoked', targetType: 'api_key', targetId: row.id });
      return toApiKeyView(row);
    });
    // The row's id, never the caller's spelling of it.
    for (const l of this.revokedListeners) l(view.id);
    return view;
  }

  /** Resolves a presented key, or null. Lookup by public prefix, then constant-time compares of its HMAC and of the row's binding. */
  async authenticate(presented: string): Promise<AuthenticatedKey | null> {
    return (await this.resolve(presented)).key;
  }

  /**
   * Like authenticate(), and tells a refusal whose prefix names no key at all (`unknownPrefix`):
   * the answer a negative cache may keep until a key is created.
   */
  async resolve(presented: string): Promise<{ key: AuthenticatedKey | null; unknownPrefix: boolean }> {
    if (!isWellFormedApiKey(presented)) return { key: null, unknownPrefix: false };
    const row = await ops.findApiKeyByPrefix(this.db, lookupPrefix(presented));
    if (!row) return { key: null, unknownPrefix: true };
    if (!apiKeyMatches(this.pepper, presented, row) || row.revoked_at) return { key: null, unknownPrefix: false };
    const now = Date.now();
    if ((this.touched.get(row.id) ?? 0) < now - 60_000) {
      this.touched.set(row.id, now);
      await ops.touchApiKey(this.db, row.id, new Date(now));
    }
    return { key: { id: row.id, organizationId: row.organization_id, role: row.role }, unknownPrefix: false };
  }
}

export function systemContext(orgId: string): AuditContext {
  return { organizationId: orgId, actorType: 'system', actorId: null, requestId: null, clientIp: null };
}
