import { path } from '../core/path';
import type { RequestOptions } from '../core/transport';
import { sessionListQuery, sessionOperationBody, toSession } from '../internal/mappers';
import type { WireSession } from '../core/wire';
import { CursorPage, PagePromise } from '../pagination';
import type { Session, SessionListParams, SessionOperationParams } from '../types';
import { APIResource } from './resource';

/**
 * Agents' bounded sessions, seen from the organization (agents open them with
 * `AgentCredentials.openSession`). Reading needs a `reader` key; recording operations and ending
 * a session need `operator` or `admin`.
 */
export class Sessions extends APIResource {
  /**
   * Sessions in creation order. `await` it for the first page, or iterate it for every session:
   * `for await (const s of client.sessions.list({ agentId, status: 'active' }))`.
   */
  list(params: SessionListParams = {}, options?: RequestOptions): PagePromise<Session> {
    return PagePromise.from(this.#pageFetcher(params, options), params.cursor);
  }

  /** One page (`page.nextPage()` for the following one). */
  listPage(params: SessionListParams = {}, options?: RequestOptions): Promise<CursorPage<Session>> {
    return CursorPage.load(this.#pageFetcher(params, options), params.cursor);
  }

  async get(sessionId: string, options?: RequestOptions): Promise<Session> {
    return toSession(await this._transport.request<WireSession>({ method: 'GET', path: path`/v1/sessions/${sessionId}`, options }));
  }

  /**
   * Records one operation done on the session's behalf, spending one unit of its budget. A refusal
   * (scope not in the session, budget spent, expired, ended, agent inactive) is a
   * `PermissionDeniedError` whose `details[0].message` is the reason code, e.g. `budget_exhausted`.
   * Not retried: a lost answer could otherwise spend the budget twice.
   */
  async recordOperation(sessionId: string, params: SessionOperationParams, options?: RequestOptions): Promise<Session> {
    const wire = await this._transport.request<WireSession>({
      method: 'POST',
      path: path`/v1/sessions/${sessionId}/operations`,
      body: sessionOperationBody(params),
      options: { maxRetries: 0, ...options },
    });
    return toSession(wire);
  }

  /** Ends the session (idempotent: ending an ended session returns it unchanged); its token becomes inactive. */
  async end(sessionId: string, options?: RequestOptions): Promise<Session> {
    return toSession(await this._transport.request<WireSession>({ method: 'DELETE', path: path`/v1/sessions/${sessionId}`, options }));
  }

  #pageFetcher(params: SessionListParams, options: RequestOptions | undefined) {
    return this._cursorPages<WireSession, Session>('/v1/sessions', (cursor) => sessionListQuery({ ...params, cursor }), toSession, options);
  }
}
