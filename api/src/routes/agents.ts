/** /v1/agents: the agents of the caller's organization, their keys and federated credentials (API keys; roles per route). */
import { z } from 'zod';
import {
  AgentCreate, AgentDelegationParams, AgentDelegationView, AgentKeyCreate, AgentKeyView, AgentListQuery, AgentPage, AgentUpdate, AgentView, FederatedCredentialCreate, FederatedCredentialView,
  TransitionBody,
} from '../schemas/agents';
import { AgentKeyParams, FederatedCredentialParams, IdParams } from '../schemas/params';
import type { AgentService, Transition } from '../services/agents';
import { auditContext } from '../middleware/auth';
import { created } from './idempotency';
import { auth, manifest, REST } from './manifest';
import { AGENT_TRANSITION_ROLES } from '../../../model/roles';

export interface AgentRouteDeps {
  agents: AgentService;
}

const TRANSITIONS: ReadonlyArray<{ action: Transition; summary: string; conflicts: boolean }> = [
  { action: 'suspend', summary: 'Suspend (tokens stop working at once)', conflicts: true },
  { action: 'activate', summary: 'Reactivate a suspended agent', conflicts: true },
  { action: 'revoke', summary: 'Revoke permanently', conflicts: false },
];

export const agentRoutes = manifest<AgentRouteDeps>('agents', (route) => [
  route({
    ...REST, method: 'post', path: '/v1/agents', summary: 'Create an agent (Idempotency-Key supported)', auth: auth.apiKey('admin'),
    body: AgentCreate, idempotent: true, responses: { 201: AgentView }, errors: [409],
    handle: async ({ caller, body, idempotencyKey, request }, { agents }) => created(await agents.create(auditContext(caller, request), body, idempotencyKey)),
  }),
  route({
    ...REST, method: 'get', path: '/v1/agents', summary: 'List agents (keyset pagination)', auth: auth.apiKey('reader'),
    query: AgentListQuery, responses: { 200: AgentPage },
    handle: async ({ caller, query }, { agents }) => ({ body: await agents.list(caller.key.organizationId, query) }),
  }),
  route({
    ...REST, method: 'get', path: '/v1/agents/{id}', summary: 'Get an agent', auth: auth.apiKey('reader'),
    params: IdParams, responses: { 200: AgentView },
    handle: async ({ caller, params }, { agents }) => ({ body: await agents.get(caller.key.organizationId, params.id) }),
  }),
  route({
    ...REST, method: 'patch', path: '/v1/agents/{id}', summary: 'Update name, scopes or metadata', auth: auth.apiKey('admin'),
    params: IdParams, body: AgentUpdate, responses: { 200: AgentView }, errors: [409],
    handle: async ({ caller, params, body, request }, { agents }) => ({ body: await agents.update(auditContext(caller, request), params.id, body) }),
  }),
  ...TRANSITIONS.map(({ action, summary, conflicts }) =>
    route({
      ...REST, method: 'post', path: `/v1/agents/{id}/${action}`, summary, auth: auth.apiKey(AGENT_TRANSITION_ROLES[action]),
      params: IdParams, body: TransitionBody, responses: { 200: AgentView }, errors: conflicts ? [409] : [],
      handle: async ({ caller, params, body, request }, { agents }) => ({ body: await agents.transition(auditContext(caller, request), params.id, action, body.reason) }),
    }),
  ),
  route({
    ...REST, method: 'get', path: '/v1/agents/{id}/keys', summary: 'List the agent\'s public keys', auth: auth.apiKey('reader'),
    params: IdParams, responses: { 200: z.object({ data: z.array(AgentKeyView) }).meta({ id: 'AgentKeyList' }) },
    handle: async ({ caller, params }, { agents }) => ({ body: { data: await agents.listKeys(caller.key.organizationId, params.id) } }),
  }),
  route({
    ...REST, method: 'post', path: '/v1/agents/{id}/keys', summary: 'Add a key (generated, with a one-time secret, or brought)', auth: auth.apiKey('admin'),
    params: IdParams, body: AgentKeyCreate, idempotent: true, responses: { 201: AgentKeyView }, errors: [409],
    handle: async ({ caller, params, body, idempotencyKey, request }, { agents }) =>
      created(await agents.addKey(auditContext(caller, request), params.id, body.public_key, idempotencyKey)),
  }),
  route({
    ...REST, method: 'delete', path: '/v1/agents/{id}/keys/{kid}', summary: 'Remove a key', auth: auth.apiKey('admin'),
    params: AgentKeyParams, responses: { 200: AgentKeyView }, errors: [409],
    handle: async ({ caller, params, request }, { agents }) => ({ body: await agents.removeKey(auditContext(caller, request), params.id, params.kid) }),
  }),
  route({
    ...REST, method: 'get', path: '/v1/agents/{id}/federated-credentials', summary: 'List the agent\'s federated credentials', auth: auth.apiKey('reader'),
    params: IdParams, responses: { 200: z.object({ data: z.array(FederatedCredentialView) }).meta({ id: 'FederatedCredentialList' }) },
    handle: async ({ caller, params }, { agents }) => ({ body: { data: await agents.listFederatedCredentials(caller.key.organizationId, params.id) } }),
  }),
  route({
    ...REST, method: 'post', path: '/v1/agents/{id}/federated-credentials', summary: 'Trust a workload\'s platform token (workload identity federation)', auth: auth.apiKey('admin'),
    params: IdParams, body: FederatedCredentialCreate, idempotent: true, responses: { 201: FederatedCredentialView }, errors: [409],
    handle: async ({ caller, params, body, idempotencyKey, request }, { agents }) =>
      created(await agents.addFederatedCredential(auditContext(caller, request), params.id, body, idempotencyKey)),
  }),
  route({
    ...REST, method: 'delete', path: '/v1/agents/{id}/federated-credentials/{credential_id}', summary: 'Remove a federated credential', auth: auth.apiKey('admin'),
    params: FederatedCredentialParams, responses: { 200: FederatedCredentialView }, errors: [409],
    handle: async ({ caller, params, request }, { agents }) => ({ body: await agents.removeFederatedCredential(auditContext(caller, request), params.id, params.credential_id) }),
  }),
  // One entry of `may_act` at a time: Terraform declares each grant as its own resource.
  route({
    ...REST, method: 'get', path: '/v1/agents/{id}/delegations/{actor_id}', summary: 'Whether the actor may act for the agent (an entry of its may_act)', auth: auth.apiKey('reader'),
    params: AgentDelegationParams, responses: { 200: AgentDelegationView },
    handle: async ({ caller, params }, { agents }) => ({ body: await agents.getDelegation(caller.key.organizationId, params.id, params.actor_id) }),
  }),
  route({
    ...REST, method: 'put', path: '/v1/agents/{id}/delegations/{actor_id}', summary: 'Let the actor act for the agent (add it to may_act; RFC 8693 token exchange)', auth: auth.apiKey('admin'),
    params: AgentDelegationParams, responses: { 200: AgentDelegationView }, errors: [400, 409],
    handle: async ({ caller, params, request }, { agents }) => ({ body: await agents.grantDelegation(auditContext(caller, request), params.id, params.actor_id) }),
  }),
  route({
    ...REST, method: 'delete', path: '/v1/agents/{id}/delegations/{actor_id}', summary: 'Remove the actor from may_act: the tokens it holds for the agent stop working at once', auth: auth.apiKey('admin'),
    params: AgentDelegationParams, responses: { 200: AgentDelegationView },
    handle: async ({ caller, params, request }, { agents }) => ({ body: await agents.removeDelegation(auditContext(caller, request), params.id, params.actor_id) }),
  }),
]);
