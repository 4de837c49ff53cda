/** Builds the service layer over one database. */
import type { Knex } from 'knex';
import type { MasterKey } from '../crypto/master-key';
import { AgentService } from './agents';
import type { FederatedCredentialPolicy } from '../federation/credential-rules';
import { AuditLog } from './audit';
import { AuditEventService } from './audit-events';
import { DEFAULT_IDEMPOTENCY_TTL_SECONDS } from './idempotency';
import { OrganizationService } from './organizations';

export interface Services {
  readonly organizations: OrganizationService;
  readonly agents: AgentService;
  /** The audit chains (keyed by the master key); every audited unit of work runs through it (withAudit). */
  readonly audit: AuditLog;
  /** Reading, checkpointing and verifying an organization's audit log (the routes' view of it). */
  readonly auditEvents: AuditEventService;
}

export interface ServiceOptions {
  /** How long Idempotency-Keys are remembered (CERTUSORDO_IDEMPOTENCY_TTL). */
  idempotencyTtlSeconds?: number;
  /** The public URL and address rule federated credentials are checked against; omitted: none are accepted. */
  federation?: FederatedCredentialPolicy;
}

export function createServices(db: Knex, keys: MasterKey, opts: ServiceOptions = {}): Services {
  const ttlMs = (opts.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS) * 1000;
  const audit = new AuditLog(keys.auditChain);
  return {
    organizations: new OrganizationService(db, keys.apiKeyPepper, audit, ttlMs),
    agents: new AgentService(db, audit, keys.agentKeySeal, ttlMs, opts.federation ?? null),
    audit,
    auditEvents: new AuditEventService(db, audit),
  };
}
