/**
 * Organizations and their API keys. Keys are shown once, at creation; afterwards only the
 * prefix, role and timestamps are visible.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { generateApiKey, hashApiKey, apiKeyMatches, isWellFormedApiKey, lookupPrefix } from '../crypto/api-keys';
import { isUuid, uuidv7 } from '../crypto/ids';
import { textViolations } from '../../../model/text';
import * as ops from '../db/operations/organizations';
import type { ApiKeyRole, DbApiKeyRow } from '../db/tables';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { AuditContext, AuditLog } from './audit';
import { DEFAULT_IDEMPOTENCY_TTL_SECONDS, IdempotentResult, withIdempotency } from './idempotency';
import { iso } from './iso';

export const API_KEY_ROLES = ['admin', 'operator', 'reader'] as const satisfies readonly ApiKeyRole[];

export const ApiKeyCreate = z
  .strictObject({
    name: z.string().trim().min(1).max(100).superRefine((v, ctx) => textViolations(v).forEach((message) => ctx.addIssue({ code: 'custom', message }))).meta({ description: 'What the key is for', example: 'ci-pipeline' }),
    role: z.enum(API_KEY_ROLES).meta({ description: 'Required. admin: everything; operator: read + suspend/activate/revoke; reader: read only' }),
  })
  .meta({ id: 'ApiKeyCreate' });
export type ApiKeyCreateInput = z.output<typeof ApiKeyCreate>;

export interface ApiKeyView {
  id: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AuthenticatedKey {
  readonly id: string;
  readonly organizationId: string;
  readonly role: ApiKeyRole;
}


export function toApiKeyView(r: DbApiKeyRow): ApiKeyView {
  return { id: r.id, name: r.name, role: r.role, prefix: r.prefix, created_at: iso(r.created_at)!, last_used_at: iso(r.last_used_at), revoked_at: iso(r.revoked_at) };
}

export class OrganizationService {
  /** last_used_at is written at most once a minute per key, to keep reads free of writes. */
  private readonly touched = new Map<string, number>();
  private readonly revokedListeners: Array<(apiKeyId: string) => void> = [];

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

  async createOrganization(name: string): Promise<{ id: string; name: string }> {
    const problems = [...(name.trim() ? [] : ['name must not be empty']), ...textViolations(name, 'name')];
    if (problems.length) throw new ValidationError(`Invalid organization name: ${problems.join('; ')}`, problems.map((message) => ({ path: 'name', message })));
    const id = await this.db.transaction((tx) => this.insertOrganization(tx, name, { name }));
    return { id, name };
  }

  /**
   * First start: with no organization at all, creates one and its first admin API key, and returns
   * the key (to be shown exactly once); null when the store already has organizations. Replicas
   * starting together are serialized, so only one of them bootstraps.
   */
  async bootstrapIfEmpty(name = 'default'): Promise<{ organizationId: string; apiKey: string } | null> {
    return this.db.transaction(async (tx) => {
      await ops.lockBootstrap(tx);
      if ((await ops.countOrganizations(tx)) > 0) return null;
      const id = await this.insertOrganization(tx, name, { name, bootstrap: true });
      const key = await this.createApiKey(systemContext(id), { name: 'bootstrap admin', role: 'admin' }, tx);
      return { organizationId: id, apiKey: key.key };
    });
  }

  /** The organization row, its audit chain, and the chain's first event, in `tx`. */
  private async insertOrganization(tx: Knex.Transaction, name: string, data: Record<string, unknown>): Promise<string> {
    const id = uuidv7();
    await ops.insertOrganization(tx, { id, name, created_at: new Date() });
    await this.audit.startChain(tx, id);
    await this.audit.record(tx, systemContext(id), { action: 'organization.created', targetType: 'organization', targetId: id, data });
    return id;
  }

  async isEmpty(): Promise<boolean> {
    return (await ops.countOrganizations(this.db)) === 0;
  }

  async organizationExists(id: string): Promise<boolean> {
    return isUuid(id) && (await ops.getOrganization(this.db, id)) !== undefined;
  }

  /** Creates a key and returns it once, with its view. Runs in `tx` when given (bootstrap). */
  async createApiKey(ctx: AuditContext, input: ApiKeyCreateInput, tx?: Knex.Transaction): Promise<ApiKeyView & { key: string }> {
    const run = async (t: Knex.Transaction) => {
      // The 8-character prefix has 48 random bits; retry on the (astronomically rare) collision.
      for (let attempt = 0; ; attempt++) {
        const { key, prefix } = generateApiKey();
        if (attempt < 3 && (await ops.findApiKeyByPrefix(t, prefix))) continue;
        const row: DbApiKeyRow = {
          id: uuidv7(), organization_id: ctx.organizationId, name: input.name, role: input.role, prefix,
          key_hash: hashApiKey(this.pepper, key), created_at: new Date(), last_used_at: null, revoked_at: null,
        };
        await ops.insertApiKey(t, row);
        await this.audit.record(t, ctx, { action: 'api_key.created', targetType: 'api_key', targetId: row.id, data: { name: row.name, role: row.role, prefix } });
        return { ...toApiKeyView(row), key };
      }
    };
    return tx ? run(tx) : this.db.transaction(run);
  }

  /** The HTTP create: idempotent, and a replay never contains the key (it is not stored). */
  async createApiKeyOnce(ctx: AuditContext, input: ApiKeyCreateInput, idempotencyKey?: string): Promise<IdempotentResult<ApiKeyView & { key?: string }>> {
    const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
    return withIdempotency(this.db, this.audit, { orgId: ctx.organizationId, scope: 'api_keys.create', key: idempotencyKey, requestHash, ttlMs: this.idempotencyTtlMs }, async (tx) => {
      const { key, ...view } = await this.createApiKey(ctx, input, tx);
      return { status: 201, stored: view, response: { ...view, key } };
    });
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
    const view = await this.db.transaction(async (tx) => {
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
      if (changed) await this.audit.record(tx, ctx, { action: 'api_key.revoked', targetType: 'api_key', targetId: id });
      return toApiKeyView(row);
    });
    for (const l of this.revokedListeners) l(id);
    return view;
  }

  /** Resolves a presented key, or null. Lookup by public prefix, then a constant-time HMAC compare. */
  async authenticate(presented: string): Promise<AuthenticatedKey | null> {
    if (!isWellFormedApiKey(presented)) return null;
    const row = await ops.findApiKeyByPrefix(this.db, lookupPrefix(presented));
    if (!row || !apiKeyMatches(this.pepper, presented, row.key_hash) || row.revoked_at) return null;
    const now = Date.now();
    if ((this.touched.get(row.id) ?? 0) < now - 60_000) {
      this.touched.set(row.id, now);
      await ops.touchApiKey(this.db, row.id, new Date(now));
    }
    return { id: row.id, organizationId: row.organization_id, role: row.role };
  }
}

export function systemContext(orgId: string): AuditContext {
  return { organizationId: orgId, actorType: 'system', actorId: null, requestId: null, clientIp: null };
}
