import type { Transport } from '../internal/transport';

/** Base of the thin resource classes: each method is one request through the shared transport. */
export abstract class APIResource {
  protected readonly _transport: Transport;
  constructor(transport: Transport) {
    this._transport = transport;
  }
}
