/** /v1/audit-events: read, checkpoint and verify the organization's keyed audit chain. */
import { roleAtLeast } from '../../../model/roles';
import { ForbiddenError } from '../errors';
import { AuditCheckpoint, AuditListQuery, AuditVerification, AuditVerifyQuery } from '../schemas/audit';
import { AuditEventPage } from '../schemas/responses';
import type { AuditEventService } from '../services/audit-events';
import { auth, manifest, REST } from './manifest';

export interface AuditRouteDeps {
  auditEvents: AuditEventService;
}

export const auditRoutes = manifest<AuditRouteDeps>('audit', (route) => [
  route({
    ...REST, method: 'get', path: '/v1/audit-events', summary: 'List audit events', auth: auth.apiKey('reader'),
    query: AuditListQuery, responses: { 200: AuditEventPage },
    handle: async ({ caller, query }, { auditEvents }) => ({ body: await auditEvents.list(caller.key.organizationId, query) }),
  }),
  route({
    ...REST, method: 'get', path: '/v1/audit-events/checkpoint', summary: "Verify the chain and sign its head with the organization's token signing key (compact JWS)", auth: auth.apiKey('reader'),
    responses: { 200: AuditCheckpoint }, errors: [409],
    handle: async ({ caller }, { auditEvents }) => ({ body: await auditEvents.checkpoint(caller.key.organizationId) }),
  }),
  route({
    ...REST, method: 'get', path: '/v1/audit-events/verify', summary: 'Verify the keyed audit chain from the last verified point (full=true: admin, whole chain); with checkpoint=<jws>, also that the log extends it', auth: auth.apiKey('reader'),
    query: AuditVerifyQuery, responses: { 200: AuditVerification },
    handle: async ({ caller: { key }, query }, { auditEvents }) => {
      // A full re-walk costs the whole log; readers (auditors) get the incremental run, shared with concurrent callers.
      if (query.full && !roleAtLeast(key.role, 'admin')) throw new ForbiddenError(`full=true needs the admin role; the key has ${key.role}`);
      return { body: await auditEvents.verify(key.organizationId, { checkpoint: query.checkpoint, full: query.full }) };
    },
  }),
]);
