/** /v1/api-keys: admin-only management of the organization's keys, and GET /v1/api-keys/me for any key. */
import { ApiKeyCreate, OrganizationService } from '../services/organizations';
import { ApiKeyCreated, ApiKeyMe, ApiKeyPage, ApiKeyView } from '../schemas/responses';
import { IdParams } from '../schemas/params';
import { auditContext } from '../middleware/auth';
import { created } from './idempotency';
import { auth, manifest, REST } from './manifest';

export interface ApiKeyRouteDeps {
  organizations: OrganizationService;
}

export const apiKeyRoutes = manifest<ApiKeyRouteDeps>('api-keys', (route) => [
  route({
    ...REST, method: 'post', path: '/v1/api-keys', summary: 'Create an API key (shown once)', auth: auth.apiKey('admin'),
    body: ApiKeyCreate, idempotent: true, responses: { 201: ApiKeyCreated }, errors: [409],
    handle: async ({ caller, body, idempotencyKey, request }, { organizations }) => created(await organizations.createApiKeyOnce(auditContext(caller, request), body, idempotencyKey)),
  }),
  route({
    ...REST, method: 'get', path: '/v1/api-keys', summary: 'List API keys (without secrets)', auth: auth.apiKey('admin'),
    responses: { 200: ApiKeyPage },
    handle: async ({ caller }, { organizations }) => ({ body: { data: await organizations.listApiKeys(caller.key.organizationId) } }),
  }),
  // Who am I: the presented key's organization and role (any role; the console adapts to it).
  route({
    ...REST, method: 'get', path: '/v1/api-keys/me', summary: 'The presented key: {id, organization_id, role}', auth: auth.apiKey('introspector'),
    responses: { 200: ApiKeyMe },
    handle: async ({ caller: { key } }) => ({ body: { id: key.id, organization_id: key.organizationId, role: key.role }, headers: { 'Cache-Control': 'no-store' } }),
  }),
  route({
    ...REST, method: 'post', path: '/v1/api-keys/{id}/revoke', summary: 'Revoke an API key', auth: auth.apiKey('admin'),
    params: IdParams, responses: { 200: ApiKeyView }, errors: [409],
    handle: async ({ caller, params, request }, { organizations }) => ({ body: await organizations.revokeApiKey(auditContext(caller, request), params.id) }),
  }),
]);
