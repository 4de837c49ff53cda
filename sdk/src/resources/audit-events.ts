import type { RequestOptions } from '../core/transport';
import {
  auditEventListQuery,
  toAuditCheckpoint,
  toAuditEvent,
  toAuditVerification,
} from '../internal/mappers';
import type { WireAuditCheckpoint, WireAuditEvent, WireAuditVerification } from '../core/wire';
import { CursorPage, PagePromise } from '../pagination';
import type { AuditCheckpoint, AuditEvent, AuditEventListParams, AuditVerification, AuditVerifyParams } from '../types';
import { APIResource } from './resource';

/** The organization's keyed, hash-chained audit log. */
export class AuditEvents extends APIResource {
  /** Events in `seq` order; `await` for one page or `for await` over all of them. */
  list(params: AuditEventListParams = {}, options?: RequestOptions): PagePromise<AuditEvent> {
    return PagePromise.from(this.#pageFetcher(params, options), params.cursor);
  }

  listPage(params: AuditEventListParams = {}, options?: RequestOptions): Promise<CursorPage<AuditEvent>> {
    return CursorPage.load(this.#pageFetcher(params, options), params.cursor);
  }

  /**
   * Verifies the chain on the server, from the last verified point (`full: true`, admin: from the
   * genesis). With `checkpoint`, also proves the log still extends that checkpoint.
   */
  async verify(params: AuditVerifyParams = {}, options?: RequestOptions): Promise<AuditVerification> {
    const wire = await this._transport.request<WireAuditVerification>({
      method: 'GET',
      path: '/v1/audit-events/verify',
      query: { checkpoint: params.checkpoint, full: params.full ? 'true' : undefined },
      options,
    });
    return toAuditVerification(wire);
  }

  /** Verifies the chain and returns its head signed with the organization's token signing key. */
  async checkpoint(options?: RequestOptions): Promise<AuditCheckpoint> {
    const wire = await this._transport.request<WireAuditCheckpoint>({ method: 'GET', path: '/v1/audit-events/checkpoint', options });
    return toAuditCheckpoint(wire);
  }

  #pageFetcher(params: AuditEventListParams, options: RequestOptions | undefined) {
    return this._cursorPages<WireAuditEvent, AuditEvent>(
      '/v1/audit-events',
      (cursor) => auditEventListQuery({ ...params, cursor }),
      toAuditEvent,
      options,
    );
  }
}
