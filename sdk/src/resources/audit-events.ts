import type { RequestOptions } from '../internal/transport';
import {
  auditEventListQuery,
  toAuditEvent,
  toAuditVerification,
  type WireAuditEvent,
  type WireAuditVerification,
} from '../internal/mappers';
import { CursorPage, PagePromise } from '../pagination';
import type { AuditEvent, AuditEventListParams, AuditVerification } from '../types';
import { APIResource } from './resource';

/** The organization's hash-chained audit log. */
export class AuditEvents extends APIResource {
  /** Events in `seq` order; `await` for one page or `for await` over all of them. */
  list(params: AuditEventListParams = {}, options?: RequestOptions): PagePromise<AuditEvent> {
    return PagePromise.from(this.#pageFetcher(params, options), params.cursor);
  }

  listPage(params: AuditEventListParams = {}, options?: RequestOptions): Promise<CursorPage<AuditEvent>> {
    return CursorPage.load(this.#pageFetcher(params, options), params.cursor);
  }

  /** Recomputes the hash chain on the server. */
  async verify(options?: RequestOptions): Promise<AuditVerification> {
    const wire = await this._transport.request<WireAuditVerification>({
      method: 'GET',
      path: '/v1/audit-events/verify',
      options,
    });
    return toAuditVerification(wire);
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
