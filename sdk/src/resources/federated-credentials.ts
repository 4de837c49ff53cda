import { path } from '../core/path';
import type { RequestOptions } from '../core/transport';
import { federatedCredentialBody, toFederatedCredential } from '../internal/mappers';
import type { WireFederatedCredential, WireList } from '../core/wire';
import type { FederatedCredential, FederatedCredentialCreateParams } from '../types';
import { APIResource } from './resource';

/** An agent's federated credentials: workloads whose platform tokens authenticate it, with no secret anywhere. */
export class FederatedCredentials extends APIResource {
  async list(agentId: string, options?: RequestOptions): Promise<FederatedCredential[]> {
    const wire = await this._transport.request<WireList<WireFederatedCredential>>({
      method: 'GET',
      path: path`/v1/agents/${agentId}/federated-credentials`,
      options,
    });
    return wire.data.map(toFederatedCredential);
  }

  /** Trusts one more workload (at most FEDERATED_CREDENTIALS_MAX active ones per agent; ConflictError beyond). */
  async create(agentId: string, params: FederatedCredentialCreateParams, options?: RequestOptions): Promise<FederatedCredential> {
    const wire = await this._transport.request<WireFederatedCredential>({
      method: 'POST',
      path: path`/v1/agents/${agentId}/federated-credentials`,
      body: federatedCredentialBody(params),
      idempotent: true,
      options,
    });
    return toFederatedCredential(wire);
  }

  /** Removes one; the agent's last key or credential cannot be removed (ConflictError). */
  async revoke(agentId: string, credentialId: string, options?: RequestOptions): Promise<FederatedCredential> {
    const wire = await this._transport.request<WireFederatedCredential>({
      method: 'DELETE',
      path: path`/v1/agents/${agentId}/federated-credentials/${credentialId}`,
      options,
    });
    return toFederatedCredential(wire);
  }
}
