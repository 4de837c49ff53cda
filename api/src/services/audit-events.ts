/**
 * The organization audit log as the routes see it: one organization's events, checkpoints and
 * verification, over the control plane's database (the AuditLog itself takes the database per
 * call, so the CLI, migrations and tests can run it over any connection).
 */
import type { Knex } from 'knex';
import type { AuditListQueryInput } from '../schemas/audit';
import type { AuditEvent, AuditLog, Checkpoint, VerifyOptions, VerifyResult } from './audit';

export class AuditEventService {
  constructor(private readonly db: Knex, private readonly log: AuditLog) {}

  /** One page of the organization's events in `seq` order. */
  list(orgId: string, q: AuditListQueryInput): Promise<{ data: AuditEvent[]; next_cursor: string | null }> {
    return this.log.list(this.db, orgId, q);
  }

  /** Verifies the chain and signs its head with the organization's token signing key. */
  checkpoint(orgId: string): Promise<Checkpoint> {
    return this.log.checkpoint(this.db, orgId);
  }

  /** Verifies the organization's chain (incrementally, or with `full` from its genesis). */
  verify(orgId: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
    return this.log.verify(this.db, orgId, opts);
  }
}
