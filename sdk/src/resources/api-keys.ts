import { path } from '../core/path';
import type { RequestOptions } from '../core/transport';
import { toApiKey, toCreatedApiKey } from '../internal/mappers';
import type { WireApiKey, WireCreatedApiKey, WireList } from '../core/wire';
import type { ApiKey, ApiKeyCreateParams, CreatedApiKey } from '../types';
import { APIResource } from './resource';

/** The organization's admin API keys (roles: model/roles.ts API_KEY_ROLE_RULE; `introspector` keys only introspect). */
export class ApiKeys extends APIResource {
  /** Creates a key; `key` is returned once. */
  async create(params: ApiKeyCreateParams, options?: RequestOptions): Promise<CreatedApiKey> {
    const wire = await this._transport.request<WireCreatedApiKey>({
      method: 'POST',
      path: '/v1/api-keys',
      body: { name: params.name, role: params.role },
      idempotent: true,
      options,
    });
    return toCreatedApiKey(wire);
  }

  async list(options?: RequestOptions): Promise<ApiKey[]> {
    const wire = await this._transport.request<WireList<WireApiKey>>({ method: 'GET', path: '/v1/api-keys', options });
    return wire.data.map(toApiKey);
  }

  async revoke(apiKeyId: string, options?: RequestOptions): Promise<ApiKey> {
    const wire = await this._transport.request<WireApiKey>({
      method: 'POST',
      path: path`/v1/api-keys/${apiKeyId}/revoke`,
      body: {},
      options,
    });
    return toApiKey(wire);
  }
}
