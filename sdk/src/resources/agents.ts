import { path } from '../core/path';
import type { RequestOptions } from '../core/transport';
import {
  agentCreateBody,
  agentListQuery,
  agentUpdateBody,
  toAgent,
  toAgentDelegation,
  toCreatedAgent,
} from '../internal/mappers';
import type { WireAgent, WireAgentDelegation } from '../core/wire';
import { CursorPage, PagePromise } from '../pagination';
import type { Agent, AgentCreateParams, AgentDelegation, AgentListParams, AgentUpdateParams, CreatedAgent } from '../types';
import { APIResource } from './resource';
import { AgentKeys } from './agent-keys';
import { FederatedCredentials } from './federated-credentials';

export class Agents extends APIResource {
  /** Keys of one agent: `client.agents.keys.list(agentId)`. */
  readonly keys = new AgentKeys(this._transport);
  /** Federated credentials of one agent: `client.agents.federatedCredentials.create(agentId, {issuer, subject})`. */
  readonly federatedCredentials = new FederatedCredentials(this._transport);

  /**
   * Registers an agent. Without `publicKey` the server generates the key pair and returns the
   * agent `secret` — once: store it immediately. Safe to retry: one Idempotency-Key per call.
   */
  async create(params: AgentCreateParams, options?: RequestOptions): Promise<CreatedAgent> {
    const wire = await this._transport.request<WireAgent>({
      method: 'POST',
      path: '/v1/agents',
      body: agentCreateBody(params),
      idempotent: true,
      options,
    });
    return toCreatedAgent(wire);
  }

  /**
   * Lists agents, oldest first. `await` it for the first page, or iterate it for every agent:
   * `for await (const agent of client.agents.list({ status: 'active' }))`.
   */
  list(params: AgentListParams = {}, options?: RequestOptions): PagePromise<Agent> {
    return PagePromise.from(this.#pageFetcher(params, options), params.cursor);
  }

  /** One page (`page.nextPage()` for the following one). */
  listPage(params: AgentListParams = {}, options?: RequestOptions): Promise<CursorPage<Agent>> {
    return CursorPage.load(this.#pageFetcher(params, options), params.cursor);
  }

  async get(agentId: string, options?: RequestOptions): Promise<Agent> {
    return toAgent(await this._transport.request<WireAgent>({ method: 'GET', path: path`/v1/agents/${agentId}`, options }));
  }

  /** Changes name, scopes or metadata (metadata replaces the whole map). */
  async update(agentId: string, params: AgentUpdateParams, options?: RequestOptions): Promise<Agent> {
    const wire = await this._transport.request<WireAgent>({
      method: 'PATCH',
      path: path`/v1/agents/${agentId}`,
      body: agentUpdateBody(params),
      options,
    });
    return toAgent(wire);
  }

  /** Temporarily disables the agent (it can no longer authenticate); `activate` undoes it. */
  suspend(agentId: string, reason?: string, options?: RequestOptions): Promise<Agent> {
    return this.#transition(agentId, 'suspend', reason, options);
  }

  /** Re-enables a suspended agent. A revoked agent cannot be activated (ConflictError `invalid_transition`). */
  activate(agentId: string, reason?: string, options?: RequestOptions): Promise<Agent> {
    return this.#transition(agentId, 'activate', reason, options);
  }

  /** Permanently disables the agent and invalidates its tokens. Cannot be undone. */
  revoke(agentId: string, reason?: string, options?: RequestOptions): Promise<Agent> {
    return this.#transition(agentId, 'revoke', reason, options);
  }

  async #transition(
    agentId: string,
    action: 'suspend' | 'activate' | 'revoke',
    reason: string | undefined,
    options: RequestOptions | undefined,
  ): Promise<Agent> {
    const wire = await this._transport.request<WireAgent>({
      method: 'POST',
      path: path`/v1/agents/${agentId}/${action}`,
      body: reason === undefined ? {} : { reason },
      options,
    });
    return toAgent(wire);
  }

  /**
   * Lets `actorId` act for `agentId` (adds it to `mayAct`): the actor may then exchange the agent's
   * access tokens for tokens that act for it (RFC 8693). Granting an existing pair changes nothing.
   */
  async grantDelegation(agentId: string, actorId: string, options?: RequestOptions): Promise<AgentDelegation> {
    return toAgentDelegation(await this._transport.request<WireAgentDelegation>({ method: 'PUT', path: path`/v1/agents/${agentId}/delegations/${actorId}`, options }));
  }

  /** The grant "`actorId` may act for `agentId`"; `NotFoundError` when there is none. */
  async getDelegation(agentId: string, actorId: string, options?: RequestOptions): Promise<AgentDelegation> {
    return toAgentDelegation(await this._transport.request<WireAgentDelegation>({ method: 'GET', path: path`/v1/agents/${agentId}/delegations/${actorId}`, options }));
  }

  /** Removes `actorId` from `mayAct`: every token it holds for the agent stops working at once. `NotFoundError` when it was not listed. */
  async removeDelegation(agentId: string, actorId: string, options?: RequestOptions): Promise<AgentDelegation> {
    return toAgentDelegation(await this._transport.request<WireAgentDelegation>({ method: 'DELETE', path: path`/v1/agents/${agentId}/delegations/${actorId}`, options }));
  }

  #pageFetcher(params: AgentListParams, options: RequestOptions | undefined) {
    return this._cursorPages<WireAgent, Agent>('/v1/agents', (cursor) => agentListQuery({ ...params, cursor }), toAgent, options);
  }
}
