import type { WirePage } from '../core/wire';
import type { QueryValue, RequestOptions, Transport } from '../core/transport';
import type { PageFetcher } from '../pagination';

/** Base of the thin resource classes: each method is one request through the shared transport. */
export abstract class APIResource {
  protected readonly _transport: Transport;
  constructor(transport: Transport) {
    this._transport = transport;
  }

  /** Fetches pages of a `{data, next_cursor}` listing, mapping each wire item. */
  protected _cursorPages<W, T>(
    listPath: string,
    query: (cursor: string | undefined) => Record<string, QueryValue>,
    map: (wire: W) => T,
    options: RequestOptions | undefined,
  ): PageFetcher<T> {
    return async (cursor) => {
      const wire = await this._transport.request<WirePage<W>>({ method: 'GET', path: listPath, query: query(cursor), options });
      return { data: wire.data.map(map), nextCursor: wire.next_cursor ?? null };
    };
  }
}
