import { path } from '../core/path';
import type { RequestOptions } from '../core/transport';
import { toAgentKey } from '../internal/mappers';
import type { WireAgentKey, WireList } from '../core/wire';
import type { AgentKey, AgentKeyCreateParams, CreatedAgentKey } from '../types';
import { APIResource } from './resource';

/** An agent's Ed25519 keys (rotation without changing the agent's id). */
export class AgentKeys extends APIResource {
  async list(agentId: string, options?: RequestOptions): Promise<AgentKey[]> {
    const wire = await this._transport.request<WireList<WireAgentKey>>({
      method: 'GET',
      path: path`/v1/agents/${agentId}/keys`,
      options,
    });
    return wire.data.map(toAgentKey);
  }

  /** Adds a key. Without `publicKey` the server generates one and returns its `secret` once. */
  async create(agentId: string, params: AgentKeyCreateParams = {}, options?: RequestOptions): Promise<CreatedAgentKey> {
    const wire = await this._transport.request<WireAgentKey>({
      method: 'POST',
      path: path`/v1/agents/${agentId}/keys`,
      body: params.publicKey === undefined ? {} : { public_key: params.publicKey },
      idempotent: true,
      options,
    });
    return toAgentKey(wire);
  }

  /** Revokes one key; the last active key cannot be revoked (ConflictError). */
  async revoke(agentId: string, kid: string, options?: RequestOptions): Promise<AgentKey> {
    const wire = await this._transport.request<WireAgentKey>({
      method: 'DELETE',
      path: path`/v1/agents/${agentId}/keys/${kid}`,
      options,
    });
    return toAgentKey(wire);
  }
}
