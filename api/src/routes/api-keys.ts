/** /v1/api-keys: admin-only management of the organization's keys; for any key, GET /v1/api-keys/me and the keys' names. */
import { z } from 'zod';
import { ApiKeyCreate, OrganizationService } from '../services/organizations';
import { ApiKeyCreated, ApiKeyMe, ApiKeyNamePage, ApiKeyPage, ApiKeyView } from '../schemas/responses';
import { idFilter } from '../schemas/agents';
import { IdParams } from '../schemas/params';
import { auditContext } from '../middleware/auth';
import { created } from './idempotency';
import { auth, manifest, REST } from './manifest';

const ApiKeyNamesQuery = z.strictObject({ id: idFilter('API keys') }).meta({ id: 'ApiKeyNamesQuery' });

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
    ...REST, method: 'get', path: '/v1/api-keys/me', summary: 'The presented key: {id, organization_id, organization_name, role}', auth: auth.apiKey('introspector'),
    responses: { 200: ApiKeyMe },
    handle: async ({ caller: { key } }, { organizations }) => ({ body: await organizations.describeKey(key), headers: { 'Cache-Control': 'no-store' } }),
  }),
  // Audit events name keys by id; any role may turn those ids into names and roles (not prefixes, not usage: that stays admin's).
  route({
    ...REST, method: 'get', path: '/v1/api-keys/names', summary: "Names and roles of the organization's API keys with these ids (revoked ones too)", auth: auth.apiKey('reader'),
    query: ApiKeyNamesQuery, responses: { 200: ApiKeyNamePage },
    handle: async ({ caller: { key }, query }, { organizations }) => ({ body: { data: await organizations.apiKeyNames(key.organizationId, query.id) } }),
  }),
  route({
    ...REST, method: 'post', path: '/v1/api-keys/{id}/revoke', summary: 'Revoke an API key', auth: auth.apiKey('admin'),
    params: IdParams, responses: { 200: ApiKeyView }, errors: [409],
    handle: async ({ caller, params, request }, { organizations }) => ({ body: await organizations.revokeApiKey(auditContext(caller, request), params.id) }),
  }),
]);
